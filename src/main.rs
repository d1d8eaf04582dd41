use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, except that running out of memory (a `ulimit -v`, a container's
/// limit without overcommit) ends the run with a clear message and exit status 1, where Rust's
/// default handler aborts (SIGABRT, and a core dump where they are on). Records already
/// written stay whole: each is written with one `write` and `--resume` continues the file.
struct ExitOnOom;

// SAFETY: every call is forwarded unchanged to `System`; only a null result is acted on.
unsafe impl GlobalAlloc for ExitOnOom {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        p
    }
}

/// Writes the message without allocating (there is no memory to format one with) and leaves
/// at once: `_exit`, because `exit` would run C++ static destructors (ONNX Runtime's) while
/// other threads still use them.
fn out_of_memory(size: usize) -> ! {
    let mut digits = [0u8; 20];
    let mut n = size;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let parts: [&[u8]; 3] = [
        b"newstag: error: out of memory (allocating ",
        &digits[i..],
        b" bytes failed): raise the memory limit, or lower --threads and --batch-size\n",
    ];
    write_and_leave(&parts)
}

#[cfg(unix)]
fn write_and_leave(parts: &[&[u8]]) -> ! {
    for part in parts {
        // SAFETY: writing a valid buffer to fd 2; a failed write changes nothing.
        unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
    }
    // SAFETY: ends the process; nothing after this runs.
    unsafe { libc::_exit(1) }
}

/// Without libc (declared for unix only): standard error is unbuffered, so writing to it does
/// not allocate; and with no `_exit` to call, abort, which runs no destructors either.
#[cfg(not(unix))]
fn write_and_leave(parts: &[&[u8]]) -> ! {
    use std::io::Write;
    let mut stderr = std::io::stderr();
    for part in parts {
        let _ = stderr.write_all(part);
    }
    std::process::abort()
}

#[global_allocator]
static ALLOC: ExitOnOom = ExitOnOom;

fn main() {
    std::process::exit(newstag::cli::main());
}

fn main() {
    std::process::exit(newstag::cli::main());
}

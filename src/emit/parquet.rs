//! Parquet output: the records [`render`](super::render) makes, one row per article, as Apache
//! Parquet with the record's nested schema (`schema/record.schema.json`), written in row groups
//! as the run goes.
//!
//! A row is decoded from the very JSON line the JSONL output prints (arrow-json's decoder), not
//! built from the document a second time, so the two outputs cannot drift apart; the decoder
//! runs in strict mode, so a record field the Arrow schema below lacks is an error, not a
//! column silently dropped. Every field is typed (offsets stay code points, as in JSON) except
//! `meta`, the input's own fields of any shape, which is its JSON text.
//!
//! Memory is bounded by one row group: rows are decoded in small batches and handed to the
//! Parquet writer, which closes a row group every `row_group_rows` rows (or
//! [`ROW_GROUP_BYTES`], whichever comes first) and writes it out; the footer is written by
//! [`ParquetWriter::finish`]. A file whose run died before that has no footer and cannot be
//! read, which is why the command line writes to a temporary file and renames it at the end.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::{Compression, ZstdLevel};
use ::parquet::file::properties::WriterProperties;
use arrow_array::ArrayRef;
use arrow_array::builder::StringBuilder;
use arrow_json::reader::{
    ArrayDecoder, Decoder, DecoderContext, DecoderFactory, ReaderBuilder, Tape, TapeElement,
};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, Schema, SchemaRef};

use super::Shape;
use crate::error::{Context, Error, ErrorKind, Result};

/// Rows per row group unless told otherwise: large enough for column statistics and
/// compression to pay (a fast-profile record is ~10 KB of JSON, so ~1-3 MB compressed a
/// group), small enough that a run holds little.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1000;

/// A row group is closed early when its encoded size passes this, whatever its row count:
/// the bound on memory when articles are unusually large.
pub const ROW_GROUP_BYTES: usize = 64 << 20;

/// Rows decoded from JSON before they go to the Parquet writer: the decoder's buffer stays
/// small whatever the row group size.
const DECODE_BATCH: usize = 128;

/// Field metadata marking a Utf8 column that holds a JSON value's text (`meta`).
pub const JSON_TEXT_KEY: &str = "newstag:encoding";
const JSON_TEXT: &str = "json";

fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, false)))
}

fn struct_of(fields: Vec<Field>) -> DataType {
    DataType::Struct(Fields::from(fields))
}

/// Offsets, counts and indexes: JSON integers, never negative; Int64 rather than UInt64
/// because Spark and pandas' nullable integers have no unsigned 64-bit type.
const INT: DataType = DataType::Int64;
/// Scores are f32 in the records (`0.9976` in JSON is the f32 nearest it): Float32 keeps them
/// exactly, where Float64 would show `0.9976000189781189`.
const SCORE: DataType = DataType::Float32;

fn span() -> Vec<Field> {
    vec![
        field("start", INT, false),
        field("end", INT, false),
        field("text", DataType::Utf8, false),
    ]
}

fn topic() -> DataType {
    struct_of(vec![
        field("label", DataType::Utf8, false),
        field("code", DataType::Utf8, true),
        field("path", list_of(DataType::Utf8), false),
        field("score", SCORE, false),
        field(
            "evidence",
            list_of(struct_of(vec![
                field("sentence", INT, false),
                field("score", SCORE, false),
            ])),
            false,
        ),
    ])
}

fn entity() -> DataType {
    struct_of(vec![
        field("text", DataType::Utf8, false),
        field("label", DataType::Utf8, false),
        field("category", DataType::Utf8, false),
        field("start", INT, false),
        field("end", INT, false),
        field("sentence", INT, true),
        field("score", SCORE, true),
    ])
}

/// A document entity; the gazetteer's fields are null where the entity was not resolved.
fn doc_entity() -> DataType {
    struct_of(vec![
        field("name", DataType::Utf8, false),
        field("mentions", INT, false),
        field("salience", SCORE, false),
        field("aliases", list_of(DataType::Utf8), false),
        // [start, end] pairs, as in JSON.
        field("spans", list_of(list_of(INT)), false),
        field("first_sentence", INT, true),
        field("country_code", DataType::Utf8, true),
        field("lat", DataType::Float64, true),
        field("lon", DataType::Float64, true),
        field("geonames_id", INT, true),
        field("geonames_name", DataType::Utf8, true),
        field("feature", DataType::Utf8, true),
    ])
}

fn tag() -> DataType {
    struct_of(vec![
        field("tag", DataType::Utf8, false),
        field("kind", DataType::Utf8, false),
        field("score", SCORE, false),
        field("why", list_of(DataType::Utf8), false),
        field("vocabulary", DataType::Boolean, false),
    ])
}

/// The columns of an annotation record, in the record's order, then `error`. Every column
/// but `id` is nullable: an error row has only `id` and `error`, and `error` is null on the
/// others.
fn annotation_fields() -> Vec<Field> {
    let mut boilerplate = span();
    boilerplate.push(field("kind", DataType::Utf8, false));
    let doc_entities = || field("", list_of(doc_entity()), true);
    let named = |name: &str| doc_entities().with_name(name);
    vec![
        field("id", DataType::Utf8, false),
        field("title", DataType::Utf8, true),
        // "YYYY-MM-DD" in JSON: a date, so that range filters and date functions work.
        field("published", DataType::Date32, true),
        field("source", DataType::Utf8, true),
        // The extracted text of a web page (null for text input, where the input has it).
        field("text", DataType::Utf8, true),
        field("sentences", list_of(struct_of(span())), true),
        field("boilerplate", list_of(struct_of(boilerplate)), true),
        field("topics", list_of(topic()), true),
        field("entities", list_of(entity()), true),
        named("people"),
        named("places"),
        named("organizations"),
        named("groups"),
        named("events"),
        named("other"),
        field("tags", list_of(tag()), true),
        field("meta", DataType::Utf8, true).with_metadata(
            [(JSON_TEXT_KEY.to_string(), JSON_TEXT.to_string())]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        ),
        field(
            "models",
            DataType::Map(
                Arc::new(field(
                    "entries",
                    struct_of(vec![
                        field("key", DataType::Utf8, false),
                        field("value", DataType::Utf8, false),
                    ]),
                    false,
                )),
                false,
            ),
            true,
        ),
        field(
            "error",
            struct_of(vec![
                field("kind", DataType::Utf8, false),
                field("message", DataType::Utf8, false),
            ]),
            true,
        ),
    ]
}

/// The Arrow schema of the records of `shape`: the annotation record's columns that the
/// shape's record has (`segment`: id, published, sentences, boilerplate; `tags --json`: id,
/// tags), always with `error`. The tags table is not a record: it has no schema.
pub fn schema(shape: Shape) -> Result<SchemaRef> {
    let keep: &[&str] = match shape {
        Shape::Annotate => &[],
        Shape::Segment => &[
            "id",
            "published",
            "text",
            "sentences",
            "boilerplate",
            "error",
        ],
        Shape::Tags { json: true, .. } => &["id", "text", "tags", "error"],
        Shape::Tags { json: false, .. } => {
            return Err(Error::new(
                ErrorKind::Config,
                "the tags table is for reading; Parquet holds the JSON records (tags --json)",
            ));
        }
        Shape::Extract => {
            return Err(Error::new(
                ErrorKind::Config,
                "extract writes JSONL only (its records are for checking and keeping the text)",
            ));
        }
    };
    let fields = annotation_fields()
        .into_iter()
        .filter(|f| keep.is_empty() || keep.contains(&f.name().as_str()))
        .collect::<Vec<_>>();
    Ok(Arc::new(Schema::new(fields)))
}

/// Writes records as Parquet rows: [`write`](Self::write) each rendered JSON record, then
/// [`finish`](Self::finish) (without it the file has no footer).
pub struct ParquetWriter<W: Write + Send> {
    decoder: Decoder,
    writer: ArrowWriter<W>,
    pub written: usize,
    pub failed: usize,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// A writer of `shape`'s records to `out`, closing a row group every `row_group_rows`
    /// rows (at least 1), zstd-compressed.
    pub fn new(out: W, shape: Shape, row_group_rows: usize) -> Result<Self> {
        let schema = schema(shape)?;
        let decoder = ReaderBuilder::new(schema.clone())
            .with_batch_size(DECODE_BATCH)
            .with_strict_mode(true)
            .with_decoder_factory(Arc::new(JsonTextFactory))
            .build_decoder()?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(row_group_rows.max(1)))
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .build();
        let writer = ArrowWriter::try_new(out, schema, Some(props))?;
        Ok(ParquetWriter {
            decoder,
            writer,
            written: 0,
            failed: 0,
        })
    }

    /// Adds one record: a JSON object as [`render`](super::render) returns it (one line).
    pub fn write(&mut self, record: &[u8], is_error: bool) -> Result<()> {
        let mut rest = record;
        while !rest.is_empty() {
            let read = self.decoder.decode(rest)?;
            rest = &rest[read..];
            // The decoder stops when it holds a batch: hand it over and go on.
            if self.decoder.len() >= DECODE_BATCH || read == 0 {
                let before = rest.len();
                self.flush_rows()?;
                if read == 0 && self.decoder.decode(rest)? == 0 && before > 0 {
                    return Err(Error::new(ErrorKind::Other, "the JSON decoder is stuck"));
                }
            }
        }
        if self.decoder.has_partial_record() {
            return Err(Error::new(
                ErrorKind::Other,
                "a record is not one complete JSON object",
            ));
        }
        self.written += 1;
        self.failed += usize::from(is_error);
        Ok(())
    }

    fn flush_rows(&mut self) -> Result<()> {
        if let Some(batch) = self.decoder.flush()? {
            self.writer.write(&batch)?;
        }
        Ok(())
    }

    /// Writes the rows still buffered, the last row group and the footer; returns the output.
    pub fn finish(mut self) -> Result<W> {
        self.flush_rows()?;
        let mut out = self
            .writer
            .into_inner()
            .context("closing the Parquet file")?;
        out.flush()?;
        Ok(out)
    }
}

/// Decodes a JSON value of any shape into its compact JSON text (`meta`).
struct JsonText;

impl ArrayDecoder for JsonText {
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> Result<ArrayRef, ArrowError> {
        let mut out = StringBuilder::with_capacity(pos.len(), pos.len() * 16);
        let mut text = String::new();
        for &p in pos {
            if tape.get(p) == TapeElement::Null {
                out.append_null();
            } else {
                text.clear();
                json_text(tape, p, &mut text)?;
                out.append_value(&text);
            }
        }
        Ok(Arc::new(out.finish()))
    }
}

/// Writes the value at `idx` as serde_json writes it (compact, same escapes), so `meta` reads
/// as the JSONL's; returns the index after it.
fn json_text(tape: &Tape<'_>, idx: u32, out: &mut String) -> Result<u32, ArrowError> {
    let quoted = |s: &str, out: &mut String| {
        serde_json::to_string(s)
            .map(|q| out.push_str(&q))
            .map_err(|e| ArrowError::JsonError(e.to_string()))
    };
    Ok(match tape.get(idx) {
        TapeElement::StartObject(end) => {
            out.push('{');
            let mut cur = idx + 1;
            while cur < end {
                if cur > idx + 1 {
                    out.push(',');
                }
                cur = json_text(tape, cur, out)?;
                out.push(':');
                cur = json_text(tape, cur, out)?;
            }
            out.push('}');
            end + 1
        }
        TapeElement::StartList(end) => {
            out.push('[');
            let mut cur = idx + 1;
            while cur < end {
                if cur > idx + 1 {
                    out.push(',');
                }
                cur = json_text(tape, cur, out)?;
            }
            out.push(']');
            end + 1
        }
        TapeElement::String(s) => {
            quoted(tape.get_string(s), out)?;
            idx + 1
        }
        // Decoded from JSON text, every number is its text as written.
        TapeElement::Number(n) => {
            out.push_str(tape.get_string(n));
            idx + 1
        }
        TapeElement::True => {
            out.push_str("true");
            idx + 1
        }
        TapeElement::False => {
            out.push_str("false");
            idx + 1
        }
        TapeElement::Null => {
            out.push_str("null");
            idx + 1
        }
        // The typed numbers come only from serde-fed tapes; kept for completeness.
        TapeElement::I32(v) => {
            let _ = write!(out, "{v}");
            idx + 1
        }
        TapeElement::I64(high) => match tape.get(idx + 1) {
            TapeElement::I32(low) => {
                let _ = write!(out, "{}", ((high as i64) << 32) | (low as u32) as i64);
                idx + 2
            }
            _ => return Err(tape.error(idx, "a 64-bit integer")),
        },
        TapeElement::F32(bits) => {
            let _ = write!(out, "{}", f32::from_bits(bits));
            idx + 1
        }
        TapeElement::F64(high) => match tape.get(idx + 1) {
            TapeElement::F32(low) => {
                let _ = write!(
                    out,
                    "{}",
                    f64::from_bits(((high as u64) << 32) | low as u64)
                );
                idx + 2
            }
            _ => return Err(tape.error(idx, "a 64-bit float")),
        },
        _ => return Err(tape.error(idx, "a JSON value")),
    })
}

/// Gives the columns marked [`JSON_TEXT_KEY`] the [`JsonText`] decoder.
#[derive(Debug)]
struct JsonTextFactory;

impl DecoderFactory for JsonTextFactory {
    fn make_default_decoder(
        &self,
        _ctx: &DecoderContext,
        field: &FieldRef,
        _is_nullable: bool,
    ) -> Result<Option<Box<dyn ArrayDecoder>>, ArrowError> {
        let json = field.metadata().get(JSON_TEXT_KEY).map(String::as_str) == Some(JSON_TEXT);
        Ok(json.then(|| Box::new(JsonText) as Box<dyn ArrayDecoder>))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;

    fn round_trip(lines: &[&str], shape: Shape, rows: usize) -> Vec<arrow_array::RecordBatch> {
        let mut writer = ParquetWriter::new(tempfile::tempfile().unwrap(), shape, rows).unwrap();
        for line in lines {
            writer
                .write(line.as_bytes(), line.contains("\"error\""))
                .unwrap();
        }
        let file = writer.finish().unwrap();
        ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn meta_keeps_its_json_text() {
        let meta = r#"{"url":"https://x.org/a?b=\"c\"","n":12.50,"tags":["é",null,true],"o":{}}"#;
        let lines = [
            format!(r#"{{"id":"a","published":"2025-05-30","sentences":[],"meta":{meta}}}"#),
            r#"{"id":"b","error":{"kind":"empty","message":"no text"}}"#.to_string(),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let batches = round_trip(&lines, Shape::Annotate, 10);
        let batch = &batches[0];
        let metas = batch.column_by_name("meta").unwrap().as_string::<i32>();
        assert_eq!(metas.value(0), meta);
        assert!(metas.is_null(1));
        let errors = batch.column_by_name("error").unwrap().as_struct();
        assert!(errors.is_null(0) && !errors.is_null(1));
        let published = batch.column_by_name("published").unwrap();
        assert_eq!(
            published
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(0),
            20238 // 2025-05-30, days since 1970-01-01
        );
    }

    #[test]
    fn a_field_outside_the_schema_is_an_error() {
        let mut writer = ParquetWriter::new(Vec::new(), Shape::Segment, 10).unwrap();
        writer
            .write(br#"{"id":"a","sentences":[],"surprise":1}"#, false)
            .unwrap();
        assert!(writer.finish().is_err());
    }

    #[test]
    fn the_tags_table_has_no_schema() {
        assert!(
            schema(Shape::Tags {
                top: 5,
                json: false
            })
            .is_err()
        );
        let tags = schema(Shape::Tags { top: 5, json: true }).unwrap();
        let names: Vec<&str> = tags.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["id", "text", "tags", "error"]);
    }
}

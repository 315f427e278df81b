//! The copy's arithmetic: units skipped at the start, units written up to
//! the end, across pieces.

use super::*;

fn copy(skip: u64, left: Option<u64>) -> Copy {
    Copy {
        skip,
        left,
        counts: Counts::default(),
        last: Offset::START,
    }
}

#[test]
fn skips_then_writes_up_to_the_limit_across_pieces() {
    let mut c = copy(3, Some(4));
    assert_eq!(c.take(2), (2, 0));
    assert_eq!(c.take(3), (1, 2));
    assert_eq!(c.take(5), (0, 2));
    assert_eq!(c.left, Some(0));
    assert_eq!(c.take(5), (0, 0));
}

#[test]
fn without_a_limit_everything_after_the_skip_is_written() {
    let mut c = copy(1, None);
    assert_eq!(c.take(3), (1, 2));
    assert_eq!(c.take(7), (0, 7));
}

#[test]
fn a_range_ending_at_a_bookmark_includes_its_message() {
    let end = Spot::after_bookmark(Offset::new("x"), 2);
    assert_eq!(end.units, 3);
    assert_eq!(Spot::at(Offset::new("x")).units, 0);
}

#[test]
fn raw_json_only_in_whole_batches_and_ndjson_only_for_json() {
    let whole = Range::whole();
    assert!(check(true, &whole, Format::Raw).is_ok());
    assert!(check(false, &whole, Format::Raw).is_ok());
    assert!(check(false, &whole, Format::Ndjson).is_err());
    let ends = Range {
        from: Spot::at(Offset::START),
        end: End::At(Spot::at(Offset::new("x"))),
    };
    assert!(check(true, &ends, Format::Raw).is_err());
    assert!(check(true, &ends, Format::Ndjson).is_ok());
    assert!(check(false, &ends, Format::Raw).is_ok());
}

#[test]
fn a_message_written_as_ndjson_loses_its_line_breaks_only() {
    let mut c = copy(0, None);
    let batch = RawJsonBatch {
        data: bytes::Bytes::from_static(b"{\n\"a\": \"x\\ny\"\n}[1]"),
        ends: vec![15, 18],
        meta: ReadMeta {
            start_offset: Offset::START,
            offset: Offset::new("9"),
            up_to_date: true,
            cursor: None,
            stream_closed: false,
            partial: false,
            ends_unit: true,
            etag: None,
            cache_control: None,
            status: 200,
        },
    };
    let mut out = Vec::new();
    c.json(&batch, &mut out).unwrap();
    assert_eq!(out, b"{\"a\": \"x\\ny\"}\n[1]\n");
    assert_eq!(c.counts.messages, 2);
    assert!(c.done(&batch.meta));
    assert_eq!(c.last, Offset::new("9"));
}

#[test]
fn the_partial_file_is_named_after_the_file() {
    assert_eq!(
        partial_path(std::path::Path::new("/tmp/a.ndjson")),
        std::path::PathBuf::from("/tmp/a.ndjson.partial")
    );
}

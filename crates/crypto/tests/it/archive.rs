//! The archive ratchet and its key file: determinism, shredding, persistence, permissions,
//! damage, conflicts; and archive entries through the public API.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use integritet_crypto::{
    ArchiveKey, ArchiveKeyFile, ArchiveRatchet, CryptoError, DayKey, KeyFiles, open_archive,
    seal_archive, unwrap_archive_key, wrap_archive_key, wrapped_archive_key_day,
};
use proptest::prelude::*;
use time::Date;
use time::macros::date;

use crate::rng;

const TODAY: Date = date!(2026 - 11 - 25);
const SHRED: Date = date!(2033 - 12 - 31);

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The base64 key in an archive key file.
fn key_line(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("key "))
        .unwrap()
        .to_owned()
}

/// Whether two day keys are the same key, judged by behaviour: one wraps, the other unwraps.
fn same_day_key(a: &DayKey, b: &DayKey) -> bool {
    let mut rng = rng(77);
    let key = ArchiveKey::generate(&mut rng);
    let wrapped = wrap_archive_key(a, &mut rng, "probe", &key).unwrap();
    unwrap_archive_key(b, "probe", &wrapped).is_ok()
}

/// An archive entry as the database would hold it.
struct Entry {
    reference: String,
    shred_day: Date,
    wrapped: Vec<u8>,
    blob: Vec<u8>,
}

fn archive(ratchet: &ArchiveRatchet, seed: u64, reference: &str, shred_day: Date) -> Entry {
    let mut rng = rng(seed);
    let key = ArchiveKey::generate(&mut rng);
    let blob = seal_archive(&key, &mut rng, reference, reference.as_bytes()).unwrap();
    let day_key = ratchet.day_key(shred_day).unwrap();
    let wrapped = wrap_archive_key(&day_key, &mut rng, reference, &key).unwrap();
    Entry {
        reference: reference.to_owned(),
        shred_day,
        wrapped,
        blob,
    }
}

fn read(ratchet: &ArchiveRatchet, entry: &Entry) -> Result<Vec<u8>, CryptoError> {
    let day_key = ratchet.day_key(entry.shred_day)?;
    let key = unwrap_archive_key(&day_key, &entry.reference, &entry.wrapped)?;
    Ok(open_archive(&key, &entry.reference, &entry.blob)?.to_vec())
}

#[test]
fn first_use_creates_a_0600_file_and_later_uses_load_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys"); // does not exist yet
    let file = ArchiveKeyFile::in_dir(&dir);
    assert_eq!(file.path(), dir.join("archive.keys"));
    let first = file.load_or_create(&mut rng(1), TODAY).unwrap();
    assert_eq!(first.day(), TODAY);
    assert_eq!(mode(file.path()), 0o600);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(dir_entries(&dir), [".archive.keys.lock", "archive.keys"]);

    // A later start (even on a later day) loads the same ratchet, not advanced.
    let again = file
        .load_or_create(&mut rng(2), date!(2027 - 01 - 01))
        .unwrap();
    assert_eq!(again.day(), TODAY);
    assert!(same_day_key(
        &first.day_key(SHRED).unwrap(),
        &again.day_key(SHRED).unwrap()
    ));
}

#[test]
fn the_file_has_the_documented_format() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    file.load_or_create(&mut rng(1), TODAY).unwrap();
    let text = fs::read_to_string(file.path()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines[0], "integritet-archive-ratchet v1");
    assert_eq!(lines[1], "day 2026-11-25");
    assert!(lines[2].starts_with("key ") && lines[2].len() == "key ".len() + 44);
    assert_eq!(lines.len(), 3);
}

#[test]
fn key_files_put_the_archive_file_beside_the_key_ring() {
    let files = KeyFiles::new("/srv/keys/kek.keys", "/elsewhere/blind-index.key");
    assert_eq!(
        files.archive_key_file(),
        ArchiveKeyFile::at("/srv/keys/archive.keys")
    );
    let files = KeyFiles::new("kek.keys", "blind-index.key");
    assert_eq!(files.archive_key_file().path(), Path::new("./archive.keys"));
}

#[test]
fn derivation_is_deterministic_across_copies_of_the_file() {
    // Two servers sharing one database, each with a copy of the same file.
    let tmp = tempfile::tempdir().unwrap();
    let a = ArchiveKeyFile::in_dir(tmp.path().join("a"));
    let b = ArchiveKeyFile::in_dir(tmp.path().join("b"));
    let mut ra = a.load_or_create(&mut rng(1), TODAY).unwrap();
    fs::create_dir(tmp.path().join("b")).unwrap();
    fs::copy(a.path(), b.path()).unwrap();
    let mut rb = b.load().unwrap();

    let entry = archive(&ra, 3, "invoice/1", SHRED);
    assert_eq!(read(&rb, &entry).unwrap(), b"invoice/1");
    for day in [TODAY, date!(2027 - 06 - 30), SHRED, date!(2036 - 12 - 31)] {
        assert!(same_day_key(
            &ra.day_key(day).unwrap(),
            &rb.day_key(day).unwrap()
        ));
    }
    // Each advances its own copy, on different days, and they still agree.
    a.advance(&mut ra, date!(2028 - 01 - 01)).unwrap();
    b.advance(&mut rb, date!(2030 - 05 - 17)).unwrap();
    assert_eq!(read(&ra, &entry).unwrap(), b"invoice/1");
    assert_eq!(read(&rb, &entry).unwrap(), b"invoice/1");
    assert!(same_day_key(
        &ra.day_key(SHRED).unwrap(),
        &rb.day_key(SHRED).unwrap()
    ));
    // A different installation's ratchet gives different keys.
    let other = ArchiveRatchet::generate(&mut rng(2), TODAY);
    assert!(!same_day_key(
        &ra.day_key(SHRED).unwrap(),
        &other.day_key(SHRED).unwrap()
    ));
    assert!(read(&other, &entry).is_err());
}

#[test]
fn advancing_shreds_due_entries_for_good_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    let mut ratchet = file.load_or_create(&mut rng(1), TODAY).unwrap();
    let old_key = key_line(file.path());
    let due_2027 = archive(&ratchet, 3, "receipt/9", date!(2027 - 12 - 31));
    let due_2033 = archive(&ratchet, 4, "invoice/4711", SHRED);
    let probe_2033 = ratchet.day_key(SHRED).unwrap();

    // On its shred day the entry is still readable.
    file.advance(&mut ratchet, date!(2027 - 12 - 31)).unwrap();
    assert_eq!(read(&ratchet, &due_2027).unwrap(), b"receipt/9");

    // The day after, it is gone: in memory, in the file, and for anyone loading the file.
    file.advance(&mut ratchet, date!(2028 - 01 - 01)).unwrap();
    assert_eq!(ratchet.day(), date!(2028 - 01 - 01));
    let err = read(&ratchet, &due_2027).unwrap_err();
    assert!(matches!(err, CryptoError::Shredded { day } if day == date!(2027 - 12 - 31)));
    assert!(err.to_string().contains("has been destroyed"), "{err}");

    let reloaded = file.load().unwrap();
    assert_eq!(reloaded.day(), date!(2028 - 01 - 01));
    assert!(matches!(
        read(&reloaded, &due_2027),
        Err(CryptoError::Shredded { .. })
    ));
    assert!(matches!(
        reloaded.day_key(TODAY),
        Err(CryptoError::Shredded { .. })
    ));
    // Later days give the same keys as before.
    assert_eq!(read(&reloaded, &due_2033).unwrap(), b"invoice/4711");
    assert!(same_day_key(&probe_2033, &reloaded.day_key(SHRED).unwrap()));

    // The old key is no longer in the file, and no temporary file is left behind.
    let text = fs::read_to_string(file.path()).unwrap();
    assert!(!text.contains(&old_key));
    assert!(text.contains("day 2028-01-01"));
    assert_eq!(mode(file.path()), 0o600);
    assert_eq!(
        dir_entries(tmp.path()),
        [".archive.keys.lock", "archive.keys"]
    );
}

#[test]
fn advance_to_then_save_persists_and_saving_the_same_state_again_is_harmless() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    let mut ratchet = file.load_or_create(&mut rng(1), TODAY).unwrap();
    let entry = archive(&ratchet, 3, "invoice/1", SHRED);
    ratchet.advance_to(date!(2030 - 01 - 01));
    file.save(&ratchet).unwrap();
    file.save(&ratchet).unwrap();
    let reloaded = file.load().unwrap();
    assert_eq!(reloaded.day(), date!(2030 - 01 - 01));
    assert_eq!(read(&reloaded, &entry).unwrap(), b"invoice/1");
    // Advancing to a past day is a no-op, in memory and on disk.
    let before = fs::read(file.path()).unwrap();
    let mut again = file.load().unwrap();
    file.advance(&mut again, TODAY).unwrap();
    assert_eq!(again.day(), date!(2030 - 01 - 01));
    assert_eq!(fs::read(file.path()).unwrap(), before);
}

#[test]
fn saving_a_ratchet_behind_the_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    let mut ahead = file.load_or_create(&mut rng(1), TODAY).unwrap();
    let mut behind = file.load().unwrap(); // another process, loaded at the same time
    file.advance(&mut ahead, date!(2028 - 01 - 01)).unwrap();
    let on_disk = fs::read(file.path()).unwrap();

    behind.advance_to(date!(2027 - 01 - 01));
    let err = file.save(&behind).unwrap_err();
    assert!(
        matches!(err, CryptoError::ArchiveRatchetConflict { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("advanced the file to 2028-01-01"), "{msg}");
    assert!(msg.contains("load the file again"), "{msg}");
    assert!(msg.contains("nothing was written"), "{msg}");
    assert_eq!(fs::read(file.path()).unwrap(), on_disk, "file changed");

    // `advance` instead catches the stale ratchet up with the file, never moving it back.
    file.advance(&mut behind, date!(2027 - 06 - 01)).unwrap();
    assert_eq!(behind.day(), date!(2028 - 01 - 01));
    assert_eq!(fs::read(file.path()).unwrap(), on_disk);
    assert!(same_day_key(
        &ahead.day_key(SHRED).unwrap(),
        &behind.day_key(SHRED).unwrap()
    ));
}

#[test]
fn a_different_ratchet_never_replaces_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    file.load_or_create(&mut rng(1), TODAY).unwrap();
    let on_disk = fs::read(file.path()).unwrap();
    let mut stranger = ArchiveRatchet::generate(&mut rng(2), date!(2027 - 01 - 01));
    let err = file.save(&stranger).unwrap_err();
    assert!(
        matches!(err, CryptoError::ArchiveRatchetConflict { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("different ratchet"), "{err}");
    let err = file
        .advance(&mut stranger, date!(2027 - 02 - 01))
        .unwrap_err();
    assert!(
        matches!(err, CryptoError::ArchiveRatchetConflict { .. }),
        "{err:?}"
    );
    assert_eq!(stranger.day(), date!(2027 - 01 - 01), "ratchet changed");
    assert_eq!(fs::read(file.path()).unwrap(), on_disk, "file changed");
}

#[test]
fn saving_never_creates_a_missing_file_and_load_never_creates() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    assert!(matches!(file.load(), Err(CryptoError::Io { .. })));
    let mut ratchet = ArchiveRatchet::generate(&mut rng(1), TODAY);
    assert!(matches!(file.save(&ratchet), Err(CryptoError::Io { .. })));
    assert!(matches!(
        file.advance(&mut ratchet, date!(2027 - 01 - 01)),
        Err(CryptoError::Io { .. })
    ));
    assert_eq!(ratchet.day(), TODAY);
    assert!(!file.path().exists());
}

#[test]
fn refuses_a_world_readable_file_with_the_chmod_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    let mut ratchet = file.load_or_create(&mut rng(1), TODAY).unwrap();
    set_mode(file.path(), 0o644);
    let err = file.load_or_create(&mut rng(1), TODAY).unwrap_err();
    assert!(matches!(
        err,
        CryptoError::KeyFileReadable { mode: 0o644, .. }
    ));
    let path = file.path().display().to_string();
    assert!(
        err.to_string().contains(&format!("chmod 600 {path}")),
        "{err}"
    );
    // Saving and advancing are refused too, and write nothing.
    assert!(matches!(
        file.advance(&mut ratchet, date!(2027 - 01 - 01)),
        Err(CryptoError::KeyFileReadable { .. })
    ));
    assert_eq!(ratchet.day(), TODAY);
    set_mode(file.path(), 0o640);
    assert!(matches!(
        file.load(),
        Err(CryptoError::KeyFileReadable { mode: 0o640, .. })
    ));
    // Following the advice works.
    set_mode(file.path(), 0o600);
    assert_eq!(file.load().unwrap().day(), TODAY);
}

#[test]
fn damaged_files_say_what_is_wrong_without_showing_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    file.load_or_create(&mut rng(1), TODAY).unwrap();
    let key = key_line(file.path());
    let h = "integritet-archive-ratchet v1";
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "it is empty"),
        (
            "hello\n".into(),
            "line 1: expected the header `integritet-archive-ratchet v1`",
        ),
        (
            format!("{h}\nkey {key}\n"),
            "it has no `day <yyyy-mm-dd>` line",
        ),
        (
            format!("{h}\nday 2026-11-25\n"),
            "it has no `key <base64>` line",
        ),
        (
            format!("{h}\nday 2026-02-30\nkey {key}\n"),
            "line 2: the day is not a date like 2026-11-25",
        ),
        (
            format!("{h}\nday 25/11/2026\nkey {key}\n"),
            "line 2: the day is not a date",
        ),
        (
            "integritet-archive-ratchet v1\nday 2026-11-25\nkey not*base64\n".into(),
            "line 3: the key is not valid base64",
        ),
        (
            "integritet-archive-ratchet v1\nday 2026-11-25\nkey AAAA\n".into(),
            "line 3: the key is 3 bytes, expected 32",
        ),
        (
            format!("{h}\nday 2026-11-25\nday 2026-11-26\nkey {key}\n"),
            "line 3: expected a single `day <yyyy-mm-dd>`",
        ),
        (
            format!("{h}\nday 2026-11-25\nkey {key}\nkey {key}\n"),
            "line 4: expected a single",
        ),
        (
            format!("{h}\nday 2026-11-25\nkey {key} extra\n"),
            "line 3: expected a single",
        ),
        (
            format!("integritet-archive-ratchet v2\nday 2026-11-25\nkey {key}\n"),
            "line 1: expected the header",
        ),
    ];
    for (content, expected) in cases {
        fs::write(file.path(), &content).unwrap();
        set_mode(file.path(), 0o600);
        let err = file.load_or_create(&mut rng(1), TODAY).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFileDamaged { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("is damaged"), "{msg}");
        assert!(msg.contains("restore it from a backup"), "{msg}");
        assert!(msg.contains(expected), "{msg} lacks {expected}");
        assert!(!msg.contains(&key), "message shows the key: {msg}");
        assert!(!format!("{err:?}").contains(&key));
        // A damaged file is never replaced by a new ratchet.
        assert_eq!(fs::read_to_string(file.path()).unwrap(), content);
    }
    fs::write(file.path(), [0xff, 0xfe, 0x00]).unwrap();
    assert!(file.load().unwrap_err().to_string().contains("not UTF-8"));
    // Comments and blank lines are fine.
    fs::write(
        file.path(),
        format!("# note\n\n{h}\n# x\nday 2026-11-25\n\nkey {key}\n"),
    )
    .unwrap();
    assert_eq!(file.load().unwrap().day(), TODAY);
}

#[test]
fn concurrent_first_uses_agree_on_one_ratchet() {
    for round in 0..20u64 {
        let tmp = tempfile::tempdir().unwrap();
        let file = ArchiveKeyFile::in_dir(tmp.path());
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4u64)
                .map(|i| {
                    let file = file.clone();
                    s.spawn(move || file.load_or_create(&mut rng(round * 10 + i), TODAY))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
        let probe = results[0].day_key(SHRED).unwrap();
        for other in &results[1..] {
            assert!(
                same_day_key(&probe, &other.day_key(SHRED).unwrap()),
                "round {round}: ratchets differ"
            );
        }
        assert!(same_day_key(
            &probe,
            &file.load().unwrap().day_key(SHRED).unwrap()
        ));
    }
}

#[test]
fn concurrent_advances_never_move_the_file_backwards() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    let base = file.load_or_create(&mut rng(1), TODAY).unwrap();
    let probe = base.day_key(date!(2030 - 01 - 01)).unwrap();
    std::thread::scope(|s| {
        for i in 0..8 {
            let file = file.clone();
            s.spawn(move || {
                let mut r = file.load().unwrap();
                let today = Date::from_julian_day(TODAY.to_julian_day() + i * 17).unwrap();
                file.advance(&mut r, today).unwrap();
                assert!(r.day() >= today);
            });
        }
    });
    let r = file.load().unwrap();
    assert_eq!(
        r.day(),
        Date::from_julian_day(TODAY.to_julian_day() + 7 * 17).unwrap()
    );
    assert!(same_day_key(
        &probe,
        &r.day_key(date!(2030 - 01 - 01)).unwrap()
    ));
}

#[test]
fn debug_output_shows_no_key_material() {
    let tmp = tempfile::tempdir().unwrap();
    let file = ArchiveKeyFile::in_dir(tmp.path());
    let ratchet = file.load_or_create(&mut rng(1), TODAY).unwrap();
    let key = key_line(file.path());
    let day_key = ratchet.day_key(TODAY).unwrap();
    let archive_key = ArchiveKey::generate(&mut rng(2));
    let shown =
        format!("{ratchet:?} {ratchet:#?} {day_key:?} {day_key:#?} {archive_key:?} {file:?}");
    assert!(!shown.contains(&key[..12]), "{shown}");
    assert!(shown.contains("day: 2026-11-25"), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
}

#[test]
fn wrapped_keys_record_their_shred_day() {
    let ratchet = ArchiveRatchet::generate(&mut rng(1), TODAY);
    let entry = archive(&ratchet, 2, "invoice/1", SHRED);
    assert_eq!(wrapped_archive_key_day(&entry.wrapped).unwrap(), SHRED);
    assert_eq!(
        entry.wrapped.len(),
        integritet_crypto::WRAPPED_ARCHIVE_KEY_LEN
    );
}

fn day_from(base: Date, offset: u32) -> Date {
    Date::from_julian_day(base.to_julian_day() + i32::try_from(offset).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The key of day `d` derived from `D` equals the key derived after advancing to any
    /// `D' <= d`, and every day before `D'` is then shredded.
    #[test]
    fn advancing_never_changes_a_future_day_key(
        seed in any::<u64>(),
        start in 0u32..40_000,
        step in 0u32..4000,
        ahead in 0u32..4000,
        back in 1u32..400,
    ) {
        let d0 = day_from(date!(1990 - 01 - 01), start);
        let d1 = day_from(d0, step);
        let d = day_from(d1, ahead);
        let original = ArchiveRatchet::generate(&mut rng(seed), d0);
        let before = original.day_key(d).unwrap();
        let mut advanced = ArchiveRatchet::generate(&mut rng(seed), d0);
        advanced.advance_to(d1);
        prop_assert_eq!(advanced.day(), d1);
        prop_assert!(same_day_key(&before, &advanced.day_key(d).unwrap()));
        prop_assert!(same_day_key(&before, &original.day_key(d).unwrap()));
        if let Ok(past) = Date::from_julian_day(d1.to_julian_day() - i32::try_from(back).unwrap()) {
            let shredded = matches!(advanced.day_key(past), Err(CryptoError::Shredded { day }) if day == past);
            prop_assert!(shredded);
        }
    }

    #[test]
    fn archive_entries_round_trip(
        seed in any::<u64>(),
        reference in "[a-z0-9/_-]{0,40}",
        other in "[a-z0-9/_-]{0,40}",
        offset in 0u32..5000,
        plaintext in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut rng = rng(seed);
        let ratchet = ArchiveRatchet::generate(&mut rng, TODAY);
        let day = day_from(TODAY, offset);
        let day_key = ratchet.day_key(day).unwrap();
        let key = ArchiveKey::generate(&mut rng);
        let blob = seal_archive(&key, &mut rng, &reference, &plaintext).unwrap();
        prop_assert_eq!(blob.len(), plaintext.len() + integritet_crypto::ARCHIVE_BLOB_OVERHEAD);
        let wrapped = wrap_archive_key(&day_key, &mut rng, &reference, &key).unwrap();
        prop_assert_eq!(wrapped_archive_key_day(&wrapped).unwrap(), day);
        let back = unwrap_archive_key(&day_key, &reference, &wrapped).unwrap();
        let plain = open_archive(&back, &reference, &blob).unwrap();
        prop_assert_eq!(plain.as_slice(), plaintext.as_slice());
        if other != reference {
            prop_assert!(unwrap_archive_key(&day_key, &other, &wrapped).is_err());
            prop_assert!(open_archive(&back, &other, &blob).is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_never_unwrap_or_open(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut rng = rng(1);
        let ratchet = ArchiveRatchet::generate(&mut rng, TODAY);
        let key = ArchiveKey::generate(&mut rng);
        let day_key = ratchet.day_key(SHRED).unwrap();
        prop_assert!(unwrap_archive_key(&day_key, "x", &bytes).is_err());
        prop_assert!(open_archive(&key, "x", &bytes).is_err());
        let _ = wrapped_archive_key_day(&bytes);
    }
}

//! Key files on disk: creation, permissions, damage, rotation and races.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use integritet_crypto::{
    BlindIndexKey, CryptoError, DataKey, KeyFiles, KeyRing, ValueAad, blind_index, decrypt_value,
    encrypt_value, unwrap, wrap,
};

use crate::rng;

const ALICE: [u8; 16] = [1; 16];

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Whether two loaded key sets are the same keys, judged by behaviour.
fn same_keys(a: &(KeyRing, BlindIndexKey), b: &(KeyRing, BlindIndexKey)) -> bool {
    let mut rng = rng(5);
    let dk = DataKey::generate(&mut rng);
    let wrapped = wrap(&a.0, &mut rng, ALICE, &dk).unwrap();
    let aad = ValueAad::new(ALICE, "email");
    let blob = encrypt_value(&dk, &mut rng, &aad, b"x").unwrap();
    let ring_ok = unwrap(&b.0, ALICE, &wrapped)
        .and_then(|dk| decrypt_value(&dk, &aad, &blob))
        .is_ok();
    ring_ok && blind_index(&a.1, "email", b"x") == blind_index(&b.1, "email", b"x")
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn first_start_creates_both_files_0600_and_later_starts_load_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys"); // does not exist yet
    let files = KeyFiles::in_dir(&dir);
    let first = files.load_or_create(&mut rng(1)).unwrap();
    assert_eq!(mode(files.key_ring_path()), 0o600);
    assert_eq!(mode(files.index_key_path()), 0o600);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(first.0.active_id().as_str(), "k1");
    // Only the two key files and the lock file: no temporary files left behind.
    assert_eq!(
        dir_entries(&dir),
        [".kek.keys.lock", "blind-index.key", "kek.keys"]
    );

    let again = files.load_or_create(&mut rng(2)).unwrap();
    assert!(same_keys(&first, &again), "second start made new keys");
    assert!(same_keys(&first, &files.load().unwrap()));
}

#[test]
fn files_have_the_documented_format() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    files.load_or_create(&mut rng(1)).unwrap();
    let ring = fs::read_to_string(files.key_ring_path()).unwrap();
    let lines: Vec<&str> = ring.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines[0], "integritet-keyring v1");
    assert_eq!(lines[1], "active k1");
    assert!(lines[2].starts_with("key k1 ") && lines[2].len() == "key k1 ".len() + 44);
    assert_eq!(lines.len(), 3);
    let index = fs::read_to_string(files.index_key_path()).unwrap();
    let lines: Vec<&str> = index.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines[0], "integritet-blind-index-key v1");
    assert!(lines[1].starts_with("key ") && lines[1].len() == "key ".len() + 44);
}

#[test]
fn explicit_paths_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let ring = tmp.path().join("a/ring.txt");
    let index = tmp.path().join("b/index.txt");
    let files = KeyFiles::new(&ring, &index);
    files.load_or_create(&mut rng(1)).unwrap();
    assert_eq!(mode(&ring), 0o600);
    assert_eq!(mode(&index), 0o600);
}

#[test]
fn refuses_a_world_readable_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    files.load_or_create(&mut rng(1)).unwrap();
    set_mode(files.key_ring_path(), 0o644);
    let err = files.load_or_create(&mut rng(1)).unwrap_err();
    assert!(matches!(
        err,
        CryptoError::KeyFileReadable { mode: 0o644, .. }
    ));
    let path = files.key_ring_path().display().to_string();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("key file {path} is readable by others")),
        "{msg}"
    );
    assert!(msg.contains(&format!("chmod 600 {path}")), "{msg}");
    // Following the advice works.
    set_mode(files.key_ring_path(), 0o600);
    files.load().unwrap();
}

#[test]
fn refuses_a_group_readable_index_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    files.load_or_create(&mut rng(1)).unwrap();
    set_mode(files.index_key_path(), 0o640);
    assert!(matches!(
        files.load(),
        Err(CryptoError::KeyFileReadable { mode: 0o640, .. })
    ));
}

#[test]
fn damaged_files_say_what_is_wrong_without_showing_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    files.load_or_create(&mut rng(1)).unwrap();
    let good = fs::read_to_string(files.key_ring_path()).unwrap();
    let key_b64 = good
        .lines()
        .find_map(|l| l.strip_prefix("key k1 "))
        .unwrap()
        .to_owned();

    let cases: Vec<(String, &str)> = vec![
        (String::new(), "it is empty"),
        (
            "hello\n".into(),
            "line 1: expected the header `integritet-keyring v1`",
        ),
        (
            format!("integritet-keyring v1\nkey k1 {key_b64}\n"),
            "no `active <id>` line",
        ),
        (
            format!("integritet-keyring v1\nactive k2\nkey k1 {key_b64}\n"),
            "the active key k2 is not in the file",
        ),
        (
            "integritet-keyring v1\nactive k1\nkey k1 not*base64\n".into(),
            "line 3: the key for k1 is not valid base64",
        ),
        (
            "integritet-keyring v1\nactive k1\nkey k1 AAAA\n".into(),
            "line 3: the key for k1 is 3 bytes, expected 32",
        ),
        (
            format!("integritet-keyring v1\nactive k1\nkey k1 {key_b64} extra\n"),
            "line 3: expected `active <id>`",
        ),
        (
            format!("integritet-keyring v1\nactive k1\nkey k1 {key_b64}\nkey k1 {key_b64}\n"),
            "key id k1 appears twice",
        ),
    ];
    for (content, expected) in cases {
        fs::write(files.key_ring_path(), &content).unwrap();
        set_mode(files.key_ring_path(), 0o600);
        let err = files.load_or_create(&mut rng(1)).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFileDamaged { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("is damaged"), "{msg}");
        assert!(msg.contains(expected), "{msg} lacks {expected}");
        assert!(!msg.contains(&key_b64), "message shows the key: {msg}");
        assert!(!format!("{err:?}").contains(&key_b64));
    }
    // The damaged file was not replaced by a fresh key.
    assert!(
        fs::read_to_string(files.key_ring_path())
            .unwrap()
            .contains(&key_b64)
    );

    fs::write(files.key_ring_path(), [0xff, 0xfe, 0x00]).unwrap();
    let msg = files.load().unwrap_err().to_string();
    assert!(msg.contains("not UTF-8"), "{msg}");
}

#[test]
fn damaged_index_key_file_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    files.load_or_create(&mut rng(1)).unwrap();
    fs::write(
        files.index_key_path(),
        "integritet-blind-index-key v1\nkey AAAA\n",
    )
    .unwrap();
    let msg = files.load().unwrap_err().to_string();
    assert!(
        msg.contains("is damaged: line 2: the key is 3 bytes"),
        "{msg}"
    );
}

#[test]
fn one_missing_file_is_never_silently_recreated() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    files.load_or_create(&mut rng(1)).unwrap();
    fs::remove_file(files.index_key_path()).unwrap();
    let err = files.load_or_create(&mut rng(2)).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFileMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("restore"), "{err}");
    assert!(!files.index_key_path().exists());

    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    files.load_or_create(&mut rng(1)).unwrap();
    fs::remove_file(files.key_ring_path()).unwrap();
    assert!(matches!(
        files.load_or_create(&mut rng(2)),
        Err(CryptoError::KeyFileMissing { .. })
    ));
    assert!(!files.key_ring_path().exists());
}

#[test]
fn load_never_creates() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    assert!(matches!(files.load(), Err(CryptoError::Io { .. })));
    assert!(!files.key_ring_path().exists());
}

#[test]
fn rotation_is_saved_atomically_and_old_keys_keep_working() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    let mut rng = rng(1);
    let (ring, _) = files.load_or_create(&mut rng).unwrap();
    let dk = DataKey::generate(&mut rng);
    let old = wrap(&ring, &mut rng, ALICE, &dk).unwrap();

    // Rotate and save.
    let ring = ring.rotate(&mut rng);
    files.save_key_ring(&ring).unwrap();
    assert_eq!(mode(files.key_ring_path()), 0o600);
    let (loaded, _) = files.load().unwrap();
    assert_eq!(loaded.active_id().as_str(), "k2");
    assert!(loaded.needs_rewrap(&old));
    unwrap(&loaded, ALICE, &old).unwrap();

    // Re-wrap everything, retire k1, save again.
    let new = loaded.rewrap(&mut rng, ALICE, &old).unwrap();
    let retired = loaded.retire("k1").unwrap();
    files.save_key_ring(&retired).unwrap();
    let (loaded, _) = files.load().unwrap();
    assert!(!loaded.contains("k1"));
    assert_eq!(
        loaded
            .retired_ids()
            .map(|id| id.as_str())
            .collect::<Vec<_>>(),
        ["k1"]
    );
    assert!(matches!(
        unwrap(&loaded, ALICE, &old),
        Err(CryptoError::UnknownKek { .. })
    ));
    unwrap(&loaded, ALICE, &new).unwrap();
    assert_eq!(loaded.rotate(&mut rng).active_id().as_str(), "k3");
    assert_eq!(
        dir_entries(tmp.path()),
        [".kek.keys.lock", "blind-index.key", "kek.keys"]
    );
}

#[test]
fn a_stale_ring_cannot_overwrite_a_newer_file() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    let mut rng = rng(1);
    let (base, _) = files.load_or_create(&mut rng).unwrap();
    let a = base.rotate(&mut rng);
    let b = base.rotate(&mut rng); // another process rotating from the same start
    files.save_key_ring(&a).unwrap();
    let before = fs::read(files.key_ring_path()).unwrap();

    let err = files.save_key_ring(&b).unwrap_err();
    assert!(
        matches!(err, CryptoError::KeyRingConflict { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("load the key ring again"), "{err}");
    let err = files.save_key_ring(&base).unwrap_err();
    assert!(
        err.to_string().contains("key k2 in the file would be lost"),
        "{err}"
    );
    assert_eq!(
        fs::read(files.key_ring_path()).unwrap(),
        before,
        "file changed"
    );
}

#[test]
fn saving_replaces_a_loose_mode_with_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    let (ring, _) = files.load_or_create(&mut rng(1)).unwrap();
    // A ring file the operator fixed by hand but left at 0400 is still replaced as 0600.
    set_mode(files.key_ring_path(), 0o400);
    files.save_key_ring(&ring.rotate(&mut rng(2))).unwrap();
    assert_eq!(mode(files.key_ring_path()), 0o600);
}

#[test]
fn concurrent_first_starts_agree_on_one_set_of_keys() {
    for round in 0..20u64 {
        let tmp = tempfile::tempdir().unwrap();
        let files = KeyFiles::in_dir(tmp.path());
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4u64)
                .map(|i| {
                    let files = files.clone();
                    s.spawn(move || files.load_or_create(&mut rng(round * 10 + i)))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
        for other in &results[1..] {
            assert!(same_keys(&results[0], other), "round {round}: keys differ");
        }
        assert!(same_keys(&results[0], &files.load().unwrap()));
    }
}

#[test]
fn debug_output_shows_no_key_material() {
    let tmp = tempfile::tempdir().unwrap();
    let files = KeyFiles::in_dir(tmp.path());
    let (ring, index) = files.load_or_create(&mut rng(1)).unwrap();
    let text = fs::read_to_string(files.key_ring_path()).unwrap()
        + &fs::read_to_string(files.index_key_path()).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.rsplit_once(' ').map(|(_, k)| k))
        .filter(|k| k.len() == 44)
        .collect();
    assert_eq!(keys.len(), 2);
    let dk = DataKey::generate(&mut rng(2));
    let shown = format!("{ring:?} {ring:#?} {index:?} {index:#?} {dk:?} {files:?}");
    for key in keys {
        assert!(!shown.contains(&key[..12]), "{shown}");
        let bytes = base64_decode(key);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.to_lowercase().contains(&hex[..16]), "{shown}");
        assert!(!shown.contains(format!("{:?}", &bytes[..4]).trim_end_matches(']')));
    }
    assert!(shown.contains("[REDACTED]"));
}

/// Minimal standard-base64 decoder so the test does not trust the crate's own encoding.
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

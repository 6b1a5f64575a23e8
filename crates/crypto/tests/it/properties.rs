//! Property tests: round trips for arbitrary input, and no cross-subject/category reads.

use integritet_crypto::{
    BlindIndexKey, DataKey, KeyRing, ValueAad, WrappedKey, blind_index, decrypt_value,
    encrypt_value, unwrap, wrap,
};
use proptest::prelude::*;

use crate::rng;

proptest! {
    #[test]
    fn any_plaintext_round_trips(
        seed in any::<u64>(),
        subject in any::<[u8; 16]>(),
        category in "[a-z_]{0,24}",
        plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut rng = rng(seed);
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(subject, &category);
        let blob = encrypt_value(&key, &mut rng, &aad, &plaintext).unwrap();
        prop_assert_eq!(blob.len(), plaintext.len() + integritet_crypto::VALUE_BLOB_OVERHEAD);
        let back = decrypt_value(&key, &aad, &blob).unwrap();
        prop_assert_eq!(back.as_slice(), plaintext.as_slice());
    }

    #[test]
    fn other_subject_or_category_never_decrypts(
        seed in any::<u64>(),
        a in any::<[u8; 16]>(),
        b in any::<[u8; 16]>(),
        cat_a in "[a-z]{1,12}",
        cat_b in "[a-z]{1,12}",
        plaintext in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        prop_assume!(a != b || cat_a != cat_b);
        let mut rng = rng(seed);
        let key = DataKey::generate(&mut rng);
        let blob = encrypt_value(&key, &mut rng, &ValueAad::new(a, &cat_a), &plaintext).unwrap();
        prop_assert!(decrypt_value(&key, &ValueAad::new(b, &cat_b), &blob).is_err());
    }

    #[test]
    fn wrapped_keys_round_trip_through_bytes(
        seed in any::<u64>(),
        subject in any::<[u8; 16]>(),
        rotations in 0usize..4,
        plaintext in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut rng = rng(seed);
        let mut ring = KeyRing::generate(&mut rng);
        for _ in 0..rotations {
            ring = ring.rotate(&mut rng);
        }
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(subject, "note");
        let blob = encrypt_value(&key, &mut rng, &aad, &plaintext).unwrap();
        let stored = wrap(&ring, &mut rng, subject, &key).unwrap().to_bytes();
        let back = unwrap(&ring, subject, &WrappedKey::from_bytes(&stored).unwrap()).unwrap();
        let plain = decrypt_value(&back, &aad, &blob).unwrap();
        prop_assert_eq!(plain.as_slice(), plaintext.as_slice());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut rng = rng(1);
        let key = DataKey::generate(&mut rng);
        let ring = KeyRing::generate(&mut rng);
        let aad = ValueAad::new([0; 16], "x");
        prop_assert!(decrypt_value(&key, &aad, &bytes).is_err());
        if let Ok(w) = WrappedKey::from_bytes(&bytes) {
            prop_assert!(unwrap(&ring, [0; 16], &w).is_err());
        }
    }

    #[test]
    fn blind_index_separates_kinds(seed in any::<u64>(), value in proptest::collection::vec(any::<u8>(), 0..64)) {
        let key = BlindIndexKey::generate(&mut rng(seed));
        prop_assert_ne!(blind_index(&key, "email", &value), blind_index(&key, "phone", &value));
        prop_assert_eq!(blind_index(&key, "email", &value), blind_index(&key, "email", &value));
    }
}

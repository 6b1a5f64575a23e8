-- A subject's disclosures, found without reading the whole log (the access report lists them).
CREATE INDEX audit_disclosures_by_subject ON audit_log (subject_id, seq)
    WHERE action = 'disclosure';

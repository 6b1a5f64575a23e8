-- Daily jobs (the retention sweep): the last day each was done, so that of several servers on
-- one database only one runs it, once a day. While a server runs a job it holds a session
-- advisory lock named after the job; a crash ends the session and frees the lock.
CREATE TABLE daily_jobs (
    name     text PRIMARY KEY,
    last_day date NOT NULL
);

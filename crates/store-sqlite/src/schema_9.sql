-- Version 9: request counts per client address or API key and minute (CONTRACT 4), kept in the
-- database so that a limit holds across every node.
CREATE TABLE rate_windows (
    bucket TEXT NOT NULL,
    window_start TEXT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

"""Low-level plumbing the rest of bonkl builds on: byte-stable tables, users' sample files,
per-job seeding and job logging. It imports nothing else from bonkl."""

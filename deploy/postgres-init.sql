-- Run once by the postgres image on an empty volume: the conversation store's own database
-- beside the shop's (POSTGRES_DB).
CREATE DATABASE sessions OWNER shopassist;

#!/bin/bash
set -euo pipefail
export PGHOST=db.internal
export PGUSER=backup
export PGPASSWORD='udE0JWlxVHgLw5cZOc'
MYSQL_PWD="4DnUmdSsr1Lwnl"
pg_dump shop | gzip > /backups/shop-$(date +%F).sql.gz

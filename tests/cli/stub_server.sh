#!/usr/bin/env bash
# A stand-in for `ringraft server` in the CLI tests when that command is not built: takes the
# same flags (`server --id N --peers ... --clients ... --port P --data-dir DIR --fsync on|off`)
# and runs redis-server on 127.0.0.1:P with its data in DIR, so that `cluster up/down/kill/
# restart`, `status` and `bench --cluster` run against real processes that speak RESP.
set -euo pipefail
[[ ${1:-} == server ]] && shift
port="" dir="" fsync=always
while [[ $# -gt 0 ]]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --data-dir) dir=$2; shift 2 ;;
    --fsync) [[ $2 == off ]] && fsync=no; shift 2 ;;
    *) shift 2 ;;
  esac
done
mkdir -p "$dir"
echo "stub node serving RESP on 127.0.0.1:$port"
exec redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" --appendonly yes \
  --appendfsync "$fsync" --daemonize no --protected-mode no --set-proc-title no 2>&1

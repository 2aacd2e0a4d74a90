#!/usr/bin/env bash
# CLI tests of `ringraft wal verify|dump` (label tools): each scenario writes a WAL with
# wal_fixture, runs the binary on it and checks exit codes, output and JSON.
#   wal_cli_test.sh RINGRAFT WAL_FIXTURE SCENARIO
set -uo pipefail
ringraft=$1
fixture=$2
scenario=$3
dir=$(mktemp -d /tmp/ringraft-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
out=$dir/out
err=$dir/err
mkdir "$dir/wal"
wal=$dir/wal

fail() {
  echo "FAIL ($scenario): $*"
  echo "--- stdout"; cat "$out" 2>/dev/null
  echo "--- stderr"; cat "$err" 2>/dev/null
  exit 1
}

# expect_exit CODE ARGS...: runs ringraft ARGS, stdout to $out, stderr to $err.
expect_exit() {
  local want=$1
  shift
  "$ringraft" "$@" >"$out" 2>"$err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "ringraft $* exited $got, expected $want"
}

# json_check PYTHON_EXPR: $out must parse as JSON and the expression over `d` must hold.
json_check() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
    "$out" || fail "JSON check failed: $1"
}

if [ "$scenario" != usage ]; then
  "$fixture" "$wal" "$scenario" || fail "the fixture failed"
fi

case "$scenario" in
  clean|direct_clean)
    expect_exit 0 wal verify "$wal"
    grep -q "status: clean" "$out" || fail "no clean status"
    expect_exit 0 wal dump "$wal" --json --records
    json_check "d['status'] == 'clean' and len(d['records']) == 6 and d['batches'] == 3"
    json_check "d['records'][0] == {'seq': 1, 'kind': 'entries', 'group': 1, 'term': 1, 'index': 1, 'count': 1, 'payload_bytes': 150}"
    json_check "d['groups'][0]['last_index'] == 6 and len(d['segments']) == 1 and d['next_seq'] == 4"
    expect_exit 0 wal dump "$wal" --json --records --group 2
    json_check "d['records'] == [] and d['groups'] == []"
    expect_exit 0 wal dump "$wal" --records
    [ "$(grep -c '^  seq ' "$out")" -eq 6 ] || fail "expected 6 record lines"
    if [ "$scenario" = direct_clean ]; then
      # Three batches, each padded to one 4 KiB block: the log ends at 12288.
      expect_exit 0 wal dump "$wal" --json
      json_check "d['segments'][0]['end_offset'] == 12288"
    fi
    ;;
  torn|direct_torn)
    before=$(md5sum "$wal"/*.wal)
    expect_exit 1 wal verify "$wal"
    grep -q "would be zeroed" "$out" || fail "the torn tail is not reported"
    expect_exit 1 wal verify "$wal" --json
    json_check "d['status'] == 'torn_tail' and d['torn_tail']['bytes'] > 0 and d['batches'] == 2"
    [ "$before" = "$(md5sum "$wal"/*.wal)" ] || fail "read-only verify changed the segment"
    expect_exit 0 wal verify "$wal" --repair
    expect_exit 0 wal verify "$wal"
    grep -q "status: clean" "$out" || fail "not clean after the repair"
    ;;
  corrupt|direct_corrupt)
    expect_exit 3 wal verify "$wal"
    grep -q -- "--repair" "$err" || fail "the corruption message does not name --repair"
    expect_exit 3 wal dump "$wal" --json --records
    json_check "d['status'] == 'corrupt' and 'corruption' in d['error'] and len(d['records']) == 2"
    expect_exit 0 wal verify "$wal" --repair --json
    json_check "d['status'] == 'repaired' and d['repair']['offset'] > 0 and d['batches'] == 1"
    expect_exit 0 wal verify "$wal"
    expect_exit 0 wal dump "$wal" --json
    json_check "d['status'] == 'clean' and d['batches'] == 1 and d['next_seq'] == 2"
    ;;
  io)
    expect_exit 4 wal verify "$wal"
    expect_exit 4 wal dump "$wal" --json
    json_check "d['status'] == 'io_error'"
    ;;
  usage)
    expect_exit 2 wal verify
    expect_exit 2 wal verify "$dir/missing"
    expect_exit 2 wal dump "$wal" --no-such-flag
    expect_exit 0 wal verify --help
    grep -q "3 corruption" "$out" || fail "--help does not document the exit codes"
    ;;
  *)
    fail "unknown scenario"
    ;;
esac
echo "ok ($scenario)"

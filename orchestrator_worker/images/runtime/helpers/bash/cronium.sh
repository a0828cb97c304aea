# Cronium runtime helpers for Bash scripts, defined before the script runs
# (through BASH_ENV). Values are JSON: `cronium_set_variable KEY VALUE`
# stores VALUE as JSON when it parses as JSON, else as a string;
# `cronium_get_variable KEY` prints a string value as it is and any other
# value as compact JSON, and prints nothing (exit 0) for a missing key.
# A failing call prints the reason on stderr and returns non-zero.

_cronium_call() {
    # _cronium_call METHOD SUBPATH [curl args...]: prints the body; the HTTP
    # status goes to _CRONIUM_STATUS.
    local method=$1 sub=$2 out
    shift 2
    if [[ "${CRONIUM_RUNTIME_API:-}" != unix://* || -z "${CRONIUM_EXECUTION_ID:-}" ]]; then
        echo "cronium: the runtime API is not available (CRONIUM_RUNTIME_API is not set)" >&2
        return 2
    fi
    if ! out=$(curl -sS --max-time 30 --unix-socket "${CRONIUM_RUNTIME_API#unix://}" -X "$method" \
            -H "Authorization: Bearer ${CRONIUM_EXECUTION_TOKEN}" -H "Connection: close" \
            -w $'\n%{http_code}' "$@" \
            "http://localhost/api/runtime/executions/${CRONIUM_EXECUTION_ID}/${sub}"); then
        echo "cronium: $method $sub: cannot reach the runtime API" >&2
        return 2
    fi
    _CRONIUM_STATUS=${out##*$'\n'}
    _CRONIUM_BODY=${out%$'\n'*}
}

_cronium_fail() {
    echo "cronium: $1 failed (HTTP ${_CRONIUM_STATUS}): ${_CRONIUM_BODY}" >&2
    return 1
}

_cronium_key() {
    if [[ ! "$1" =~ ^[A-Za-z0-9_.-]{1,128}$ ]]; then
        echo "cronium: variable key must be 1-128 of letters, digits, '_', '.', '-'" >&2
        return 2
    fi
}

cronium_input() {
    _cronium_call GET input -H "Accept: text/plain" || return
    [[ $_CRONIUM_STATUS == 2* ]] || { _cronium_fail "cronium_input"; return; }
    printf '%s\n' "$_CRONIUM_BODY"
}

cronium_output() {
    # cronium_output JSON
    _cronium_call POST output -H "Content-Type: application/json" --data-binary @- <<<"${1-null}" || return
    [[ $_CRONIUM_STATUS == 2* ]] || _cronium_fail "cronium_output"
}

cronium_get_variable() {
    _cronium_key "${1-}" || return
    _cronium_call GET "variables/$1" -H "Accept: text/plain" || return
    [[ $_CRONIUM_STATUS == 404 ]] && return 0
    [[ $_CRONIUM_STATUS == 2* ]] || { _cronium_fail "cronium_get_variable $1"; return; }
    printf '%s\n' "$_CRONIUM_BODY"
}

cronium_set_variable() {
    # cronium_set_variable KEY VALUE (VALUE is JSON if it parses, else a string)
    _cronium_key "${1-}" || return
    # From a file descriptor, not the command line: a value may start with '@'.
    _cronium_call PUT "variables/$1" -H "Content-Type: text/plain" --data-binary @<(printf '%s' "${2-}") || return
    [[ $_CRONIUM_STATUS == 2* ]] || _cronium_fail "cronium_set_variable $1"
}

cronium_delete_variable() {
    _cronium_key "${1-}" || return
    _cronium_call DELETE "variables/$1" || return
    [[ $_CRONIUM_STATUS == 2* ]] || _cronium_fail "cronium_delete_variable $1"
}

cronium_set_condition() {
    case "${1-}" in
        true|false) ;;
        *) echo "cronium: cronium_set_condition takes true or false" >&2; return 2 ;;
    esac
    _cronium_call POST condition -H "Content-Type: application/json" --data-binary "{\"condition\": $1}" || return
    [[ $_CRONIUM_STATUS == 2* ]] || _cronium_fail "cronium_set_condition"
}

cronium_event() {
    _cronium_call GET event || return
    [[ $_CRONIUM_STATUS == 2* ]] || { _cronium_fail "cronium_event"; return; }
    printf '%s\n' "$_CRONIUM_BODY"
}

#!/usr/bin/env python3
"""The HA flows of the official SMC Python client (fp-ngfw-smc-python)
against an SMC API, e.g. `runbook sim serve`.

Uses only the client's public API with its defaults (no api_version: the
client picks the lowest offered version; no retry settings), and
`SMCRequest` for the entry points the client has no method for at that
version. Prints one `ok: ...` line per step; on any failure prints
`FAIL: ...` to stderr and exits 1. Every wait is bounded and so is the whole
run (--timeout).

    python ha_flows.py --url http://127.0.0.1:PORT/servers/mgt-1 \\
        --api-key KEY --standby-url http://127.0.0.1:PORT/servers/mgt-2
"""

import argparse
import re
import signal
import sys
import time

POLL_TRIES = 120
POLL_INTERVAL = 0.5


class Failure(Exception):
    """A step did not give the expected answer."""


class TimedOut(BaseException):
    """The whole run took longer than --timeout (raised by SIGALRM)."""


def ok(message):
    print("ok: " + message, flush=True)


def expect(condition, message):
    if not condition:
        raise Failure(message)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="API root of the Active server")
    parser.add_argument("--api-key", required=True, help="API key of the API client")
    parser.add_argument("--standby-url", required=True, help="API root of a Standby server")
    parser.add_argument(
        "--timeout", type=int, default=240, help="bound of the whole run in seconds (default 240)"
    )
    parser.add_argument("--debug", action="store_true", help="log every request of the client")
    return parser.parse_args(argv)


def read(href, what):
    """GET href through the client's SMCRequest; the answer's JSON object."""
    from smc.api.common import SMCRequest

    result = SMCRequest(href=href).read()
    expect(result is not None, "%s: no answer" % what)
    expect(
        result.code == 200,
        "%s: HTTP %s (%s)" % (what, result.code, result.msg),
    )
    expect(
        isinstance(result.json, dict),
        "%s: the answer is not a JSON object with Content-Type application/json: %r"
        % (what, result.json if result.json is not None else result.content),
    )
    return result.json


def poll(what, attempt):
    """Calls attempt() until it returns a true value; at most POLL_TRIES times."""
    last = None
    for _ in range(POLL_TRIES):
        done, last = attempt()
        if done:
            return last
        time.sleep(POLL_INTERVAL)
    raise Failure(
        "%s: not reached after %d tries %.1f s apart; last: %r"
        % (what, POLL_TRIES, POLL_INTERVAL, last)
    )


def login(session, url, api_key):
    session.login(url=url, api_key=api_key)
    expect(session.session is not None, "login to %s: no session" % url)
    ok(
        "logged in to %s (API %s) as %s"
        % (url, session.api_version, getattr(session.current_user, "name", None))
    )


def name_of(element, what):
    from smc.elements.servers import ManagementServer

    expect(element is not None, "%s: missing (Element.from_href gave nothing)" % what)
    expect(
        isinstance(element, ManagementServer),
        "%s: %r is not a ManagementServer (its link rel=self must have type mgt_server)"
        % (what, element),
    )
    expect(bool(element.name), "%s: element without a name" % what)
    return element.name


def state_of(states, server_name):
    for entry in states.get("standby_server_states") or []:
        if entry.get("server_name") == server_name:
            return entry.get("state") or ""
    return None


def pick_standby(standbys, standby_url):
    """The standby named like the last path segment of --standby-url (as in
    `sim serve`'s /servers/NAME), else the first standby."""
    tail = standby_url.rstrip("/").rsplit("/", 1)[-1]
    for standby in standbys:
        if standby.name == tail:
            return standby
    return standbys[0]


def on_active(session, args):
    from smc.administration.system import System
    from smc.core.ha_management import HAManagement

    login(session, args.url, args.api_key)

    ha = HAManagement()
    info = ha.get_ha()
    active = name_of(info.active_server, "get_ha().active_server")
    connected = name_of(info.connected_server, "get_ha().connected_server")
    standbys = info.standby_servers
    expect(len(standbys) > 0, "get_ha(): no standby_servers")
    standby_names = [name_of(s, "get_ha().standby_servers[]") for s in standbys]
    expect(active == connected, "get_ha(): connected to %s but active is %s" % (connected, active))
    expect(active not in standby_names, "get_ha(): %s is both active and standby" % active)
    ok("get_ha: active %s, standby %s" % (active, ", ".join(standby_names)))

    diagnostic = ha.diagnostic()
    expect(diagnostic.status == "OK", "diagnostic: status %r, not OK" % diagnostic.status)
    blocks = diagnostic.message
    for block in blocks:
        lines = block.message or []
        print("    %s: %s" % (block.title, " | ".join(str(line) for line in lines)))
    ok("diagnostic: status OK, %d blocks" % len(blocks))

    replication = read(ha.entry + "/database_replication_diagnostic", "database_replication_diagnostic")
    state = replication.get("state") or ""
    expect(
        state.startswith("[ACT_REP]"),
        "database_replication_diagnostic on the Active: state %r, not [ACT_REP]" % state,
    )
    ok("database_replication_diagnostic: %s" % state)

    version = System().smc_version
    expect(isinstance(version, str) and version.strip(), "smc_version: %r" % (version,))
    first = version.split()[0]
    expect(
        re.fullmatch(r"\d+(\.\d+){1,3}", first) is not None,
        "smc_version: %r does not start with a version number" % version,
    )
    ok("smc_version: %s (version %s)" % (version, first))

    standby = pick_standby(standbys, args.standby_url)
    response = ha.exclude(standby)
    ok("exclude %s: HTTP %s" % (standby.name, response.status_code))
    response = ha.full_replication(standby)
    ok("full_replication %s: HTTP %s" % (standby.name, response.status_code))

    def replicated():
        states = read(ha.entry + "/all_servers_replication_states", "all_servers_replication_states")
        state = state_of(states, standby.name)
        return state is not None and state.startswith("[STB_REP]"), state

    state = poll("%s back to [STB_REP]" % standby.name, replicated)
    ok("all_servers_replication_states: %s is %s" % (standby.name, state))

    session.logout()
    ok("logged out of %s" % args.url)
    return active


def on_standby(session, args, previous_active):
    from smc.core.ha_management import HAManagement

    login(session, args.standby_url, args.api_key)

    ha = HAManagement()
    before = ha.get_ha()
    target = name_of(before.connected_server, "get_ha().connected_server on the standby")
    expect(
        target != previous_active,
        "%s is the Active (%s), not a Standby" % (args.standby_url, previous_active),
    )
    response = ha.set_active()
    ok("set_active on %s: HTTP %s" % (target, response.status_code))

    def activated():
        state = read(ha.entry + "/database_replication_diagnostic", "database_replication_diagnostic")
        state = state.get("state") or ""
        return state.startswith("[ACT_REP]"), state

    state = poll("%s to [ACT_REP]" % target, activated)
    ok("database_replication_diagnostic on %s: %s" % (target, state))

    info = ha.get_ha()
    active = name_of(info.active_server, "get_ha().active_server after set_active")
    standby_names = [name_of(s, "get_ha().standby_servers[]") for s in info.standby_servers]
    expect(active == target, "get_ha() after set_active: active is %s, not %s" % (active, target))
    expect(
        previous_active in standby_names,
        "get_ha() after set_active: the previous Active %s is not a standby (%s)"
        % (previous_active, standby_names),
    )
    ok("get_ha: active %s, standby %s" % (active, ", ".join(standby_names)))

    session.logout()
    ok("logged out of %s" % args.standby_url)


def main(argv):
    args = parse_args(argv)

    def out_of_time(_signum, _frame):
        raise TimedOut()

    # The client's POSTs have no timeout of their own: bound the whole run.
    alarm = getattr(signal, "SIGALRM", None)  # Unix only
    if alarm is not None:
        signal.signal(alarm, out_of_time)
        signal.alarm(args.timeout)
    try:
        try:
            import smc
            from smc import session
        except ImportError as error:
            raise Failure("the official client is not installed (pip install fp-ngfw-smc-python): %s" % error)
        if args.debug:
            import logging

            smc.set_stream_logger(logging.DEBUG)
        previous_active = on_active(session, args)
        on_standby(session, args, previous_active)
    except TimedOut:
        print("FAIL: the HA flows took longer than %d s" % args.timeout, file=sys.stderr)
        return 1
    except Failure as error:
        print("FAIL: %s" % error, file=sys.stderr)
        return 1
    except Exception as error:  # the client's own exceptions, e.g. HaCommandException
        import traceback

        traceback.print_exc()
        print("FAIL: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return 1
    finally:
        if alarm is not None:
            signal.alarm(0)
    print("ok: all HA flows passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

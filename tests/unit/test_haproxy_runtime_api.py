"""The runtime API client's handling of HAProxy's answers, over a scripted transport.

The answers are HAProxy 2.6's own sentences (captured from a real stats socket); the one
real test of the socket path is in ``tests/component/test_haproxy_ingress.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taxiway import errors
from taxiway.haproxy.errors import RuntimeApiError, RuntimeApiUnavailable, ServerBusy
from taxiway.haproxy.runtime_api import RuntimeApi, ScriptedTransport, UnixSocketTransport
from taxiway.plan.haproxy import config
from taxiway.plan.haproxy.tokens import UnsafeValue


def api(answers: dict[str, str], default: str = "\n") -> tuple[RuntimeApi, ScriptedTransport]:
    transport = ScriptedTransport(lambda command: answers.get(command, default))
    return RuntimeApi(transport), transport


def test_silent_commands_succeed_on_silence_and_fail_with_haproxys_sentence() -> None:
    client, transport = api({"set server nope/i1 state drain": "No such backend.\n\n"})
    client.set_server_state("be", "i1", "drain")
    client.set_weight("be", "i1", 50)
    client.enable_health("be", "i1")
    client.disable_health("be", "i1")
    client.set_server_health("be", "i1", "down")
    client.shutdown_sessions("be", "i1")
    assert transport.sent == [
        "set server be/i1 state drain",
        "set weight be/i1 50",
        "enable health be/i1",
        "disable health be/i1",
        "set server be/i1 health down",
        "shutdown sessions server be/i1",
    ]
    with pytest.raises(RuntimeApiError, match="No such backend") as caught:
        client.set_server_state("nope", "i1", "drain")
    assert caught.value.answer == "No such backend."
    assert isinstance(caught.value, errors.TaxiwayError)
    assert not caught.value.retryable


def test_add_server_registers_then_enables_checks_and_traffic() -> None:
    client, transport = api({"add server be/i2 127.0.0.1:41002 check inter 2s": "New server registered.\n\n"})
    client.add_server("be", "i2", "127.0.0.1", 41002, ("check", "inter", "2s"))
    assert transport.sent == [
        "add server be/i2 127.0.0.1:41002 check inter 2s",
        "enable health be/i2",
        "set server be/i2 state ready",
    ]


def test_add_server_failure_carries_haproxys_message() -> None:
    client, transport = api({}, default="Already exists a server with the same name in backend.\n\n")
    with pytest.raises(RuntimeApiError, match="Already exists a server"):
        client.add_server(
            "be",
            "i2",
            "::1",
            41002,
            config.instance_options(config.InstanceCheck(), config.Instance("i2", 1)),
        )
    assert transport.sent[0].startswith("add server be/i2 [::1]:41002 check inter 2s")
    assert len(transport.sent) == 1


def test_del_server_tells_busy_from_refused() -> None:
    client, _ = api(
        {
            "del server be/ok": "Server deleted.\n",
            "del server be/busy": "Server still has connections attached to it, cannot remove it.\n\n",
            "del server be/live": "Only servers in maintenance mode can be deleted.\n\n",
        }
    )
    client.del_server("be", "ok")
    with pytest.raises(ServerBusy) as busy:
        client.del_server("be", "busy")
    assert busy.value.retryable
    with pytest.raises(RuntimeApiError, match="maintenance") as refused:
        client.del_server("be", "live")
    assert not isinstance(refused.value, ServerBusy)


def test_set_server_addr_accepts_haproxys_success_sentences() -> None:
    client, _ = api(
        {
            "set server be/i1 addr 127.0.0.2 port 18005": "IP changed from '127.0.0.1' to '127.0.0.2', port "
            "changed from '18001' to '18005' by 'stats socket command'\n\n",
            "set server be/i1 addr 127.0.0.2 port 18006": "no need to change the addr, port changed from "
            "'18005' to '18006' by 'stats socket command'\n\n",
            "set server be/i1 addr 127.0.0.2 port 1": "Invalid addr by 'stats socket command'\n\n",
        }
    )
    client.set_server_addr("be", "i1", "127.0.0.2", 18005)
    client.set_server_addr("be", "i1", "127.0.0.2", 18006)
    with pytest.raises(RuntimeApiError, match="Invalid addr"):
        client.set_server_addr("be", "i1", "127.0.0.2", 1)


def test_reads_reject_error_answers() -> None:
    client, _ = api(
        {"show stat nope -1 -1": "No such proxy.\n\n", "show servers state nope": "Can't find backend.\n\n"}
    )
    with pytest.raises(RuntimeApiError, match="No such proxy"):
        client.show_stat("nope")
    with pytest.raises(RuntimeApiError, match="Can't find backend"):
        client.show_servers_state("nope")
    with pytest.raises(RuntimeApiError):
        client.show_info()


def test_current_sessions_of_one_server() -> None:
    stat = "# pxname,svname,scur,type,check_status,check_duration\nbe,i1,4,2,L7OK,1\nbe,BACKEND,4,1,,\n"
    client, _ = api({"show stat be -1 -1": stat})
    assert client.current_sessions("be", "i1") == 4
    with pytest.raises(RuntimeApiError, match="no server 'i9'"):
        client.current_sessions("be", "i9")


@pytest.mark.parametrize(
    ("backend", "server"),
    [
        ("be", "i1;disable frontend fe_main"),
        ("be", "i1\nshutdown"),
        ("be x", "i1"),
        ("be", "i1 "),
        ("be", ""),
    ],
)
def test_names_that_would_smuggle_a_second_command_are_refused(backend: str, server: str) -> None:
    client, transport = api({})
    with pytest.raises(UnsafeValue):
        client.set_server_state(backend, server, "maint")
    with pytest.raises(UnsafeValue):
        client.del_server(backend, server)
    assert transport.sent == []


def test_raw_commands_and_options_are_single_words() -> None:
    client, transport = api({})
    with pytest.raises(UnsafeValue):
        client.execute("show info; shutdown frontend fe_main")
    with pytest.raises(UnsafeValue):
        client.add_server("be", "i1", "127.0.0.1", 1, ("check backup",))
    with pytest.raises(UnsafeValue):
        client.set_server_state("be", "i1", "off")  # type: ignore[arg-type]
    with pytest.raises(UnsafeValue):
        client.set_weight("be", "i1", 300)
    assert transport.sent == []


def test_an_absent_socket_is_transient() -> None:
    client = RuntimeApi(UnixSocketTransport(Path("/nonexistent/admin.sock"), timeout=0.5))
    with pytest.raises(RuntimeApiUnavailable) as caught:
        client.show_info()
    assert caught.value.retryable

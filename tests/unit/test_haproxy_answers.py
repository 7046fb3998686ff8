"""Parsing HAProxy's answers: ``show stat``, ``show servers state``, ``show info``, ``show proc``.

The answers below were captured from HAProxy 2.6.12 running an edge config from
:mod:`taxiway.plan.haproxy.config` (pool ``europe-west1`` drained and refused, the fallback
unchecked), so the parser is held to what HAProxy really prints.
"""

from __future__ import annotations

import pytest

from taxiway.plan.haproxy import answers

# fmt: off
STAT_ANSWER = "\n".join(
    [
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,",  # noqa: E501
        "fe_main,FRONTEND,,,0,0,9979,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
        "hello,us-east1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,2,0,,1,3,1,,0,,2,0,,0,L7OK,200,1,0,0,0,0,0,0,0,,,0,0,0,,,,,-1,,,0,0,0,0,,,,Layer7 check passed,,1,1,1,,,,127.0.0.1:18001,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",  # noqa: E501
        "hello,europe-west1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,0,1,1,1,0,0,,1,3,2,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,0,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,1,1,0,,,,127.0.0.1:18002,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",  # noqa: E501
        "hello,fallback.us-east1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,0,1,,,2,,,1,3,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18001,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",  # noqa: E501
        "hello,BACKEND,0,0,0,0,998,0,0,0,0,0,,0,0,0,0,UP,1,1,1,,0,2,0,,1,3,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,5,5,334,285,0,0,",
        "be_unknown,BACKEND,0,0,0,0,998,0,0,0,0,0,,0,0,0,0,UP,0,0,0,,0,2,,,1,4,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,0,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
        "",
        "",
    ]
)

SERVERS_STATE_ANSWER = "\n".join(
    [
        "1",
        "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port",  # noqa: E501
        "3 hello 1 us-east1 127.0.0.1 2 0 1 1 2 15 3 1 6 0 0 0 - 18001 - 0 0 - - 0",
        "3 hello 2 europe-west1 127.0.0.1 0 8 1 1 0 8 2 0 6 0 0 0 - 18002 - 0 0 - - 0",
        "3 hello 3 fallback.us-east1 127.0.0.1 2 0 1 1 2 1 0 2 0 0 0 0 - 18001 - 0 0 - - 0",
        "",
        "",
    ]
)
# fmt: on

PROC_ANSWER = """\
#<PID>          <type>          <reloads>       <uptime>        <version>
16117           master          3 [failed: 1]   0d00h00m02s     2.6.12-1+deb12u4
# workers
16144           worker          0               0d00h00m00s     2.6.12-1+deb12u4
# old workers
16120           worker          2               0d00h00m03s     2.6.12-1+deb12u4
# programs

"""


def test_show_stat_rows_with_check_results() -> None:
    rows = {(row.proxy, row.name): row for row in answers.parse_stat(STAT_ANSWER)}
    assert set(rows) == {
        ("fe_main", "FRONTEND"),
        ("hello", "us-east1"),
        ("hello", "europe-west1"),
        ("hello", "fallback.us-east1"),
        ("hello", "BACKEND"),
        ("be_unknown", "BACKEND"),
    }
    active = rows["hello", "us-east1"]
    assert active.kind is answers.ProxyKind.SERVER
    assert (active.status, active.check_status, active.check_code, active.check_duration_ms) == (
        "UP",
        "L7OK",
        200,
        1,
    )
    assert active.check_passed
    refused = rows["hello", "europe-west1"]
    assert (refused.status, refused.check_status, refused.check_passed) == ("DOWN", "L4CON", False)
    assert refused.fields["last_chk"] == "Connection refused"
    assert refused.number("bck") == 1
    unchecked = rows["hello", "fallback.us-east1"]
    assert (unchecked.status, unchecked.check_status, unchecked.check_duration_ms) == ("no check", None, None)
    assert rows["hello", "BACKEND"].kind is answers.ProxyKind.BACKEND
    assert rows["fe_main", "FRONTEND"].kind is answers.ProxyKind.FRONTEND


def test_a_check_in_progress_is_flagged_not_mistaken_for_a_status() -> None:
    text = "# pxname,svname,scur,type,check_status,check_duration\nb,s,3,2,* L7OK,12\n"
    (row,) = answers.parse_stat(text)
    assert (row.check_status, row.check_in_progress, row.current_sessions, row.check_duration_ms) == (
        "L7OK",
        True,
        3,
        12,
    )


def test_show_servers_state_rows() -> None:
    states = {state.server: state for state in answers.parse_servers_state(SERVERS_STATE_ANSWER)}
    assert list(states) == ["us-east1", "europe-west1", "fallback.us-east1"]
    active, drained = states["us-east1"], states["europe-west1"]
    assert (active.address, active.port, active.up, active.draining, active.in_maintenance) == (
        "127.0.0.1",
        18001,
        True,
        False,
        False,
    )
    assert drained.admin is answers.AdminState.FORCED_DRAIN
    assert (drained.up, drained.draining, drained.in_maintenance) == (False, True, False)
    assert drained.operational is answers.OperationalState.STOPPED


def test_show_proc_tells_current_from_old_workers() -> None:
    assert answers.parse_proc(PROC_ANSWER) == answers.Processes(
        master=16117, reloads=3, failed_reloads=1, workers=(16144,), old_workers=(16120,)
    )


def test_show_info() -> None:
    info = answers.parse_info("Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nPid: 14013\nUptime: 0d 0h00m01s\n")
    assert info["Pid"] == "14013"
    assert info["Uptime"] == "0d 0h00m01s"


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (answers.parse_stat, "No such proxy.\n"),
        (answers.parse_servers_state, "Can't find backend.\n"),
        (answers.parse_servers_state, "1\n3 b 1 s 127.0.0.1 2 0 1 1\n"),
        (answers.parse_proc, "Unknown command.\n"),
    ],
)
def test_error_answers_are_not_parsed_as_empty(parse: object, text: str) -> None:
    assert callable(parse)
    with pytest.raises(ValueError, match="answer"):
        parse(text)

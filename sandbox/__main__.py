"""Command line: ``python -m sandbox --port 8081 --token 123456:ABC`` runs the sandbox."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from .faults import FaultConfig, FaultRule
from .limits import FloodConfig
from .server import Sandbox, SandboxConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A local fake Telegram Bot API server with a web chat page, Telegram's limits and fault injection.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", action="append", default=[], help="bot token to accept (repeatable)")
    parser.add_argument("--state-file", help="keep the state in this JSON file across restarts")
    limits = parser.add_argument_group("flood limits")
    limits.add_argument("--no-flood-limits", action="store_true", help="never answer 429 on its own")
    limits.add_argument("--per-chat-rate", type=float, default=1.0, help="messages/s per private chat")
    limits.add_argument("--per-chat-burst", type=int, default=5)
    limits.add_argument("--overall-rate", type=float, default=30.0, help="messages/s per bot")
    limits.add_argument("--group-per-minute", type=float, default=20.0)
    faults = parser.add_argument_group("fault injection (also at run time: /sandbox/api/faults)")
    faults.add_argument("--latency-ms", type=int, default=0)
    faults.add_argument("--latency-jitter-ms", type=int, default=0)
    faults.add_argument("--fail-rate", type=float, default=0.0, help="share of calls answered 5xx")
    faults.add_argument("--fail-status", type=int, default=500, choices=(500, 502, 503, 504))
    faults.add_argument("--flood-rate", type=float, default=0.0, help="share of calls answered 429")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="share of connections closed unanswered")
    faults.add_argument("--fault-methods", help="comma-separated methods the rates apply to (default: all)")
    faults.add_argument("--fail-next", type=int, default=0, help="the next N calls answer 5xx")
    faults.add_argument("--seed", type=int, help="seed for reproducible random faults")
    faults.add_argument("--paused", action="store_true", help="start with Bot API calls on hold")
    parser.add_argument(
        "--callback-query-ttl", type=float, default=15.0, help="seconds a bot has to answer a callback query"
    )
    parser.add_argument("--webhook-retry", type=float, default=0.5, help="first webhook retry delay, seconds")
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        tokens=args.token,
        state_file=args.state_file,
        flood=FloodConfig(
            enabled=not args.no_flood_limits,
            per_chat_per_second=args.per_chat_rate,
            per_chat_burst=args.per_chat_burst,
            overall_per_second=args.overall_rate,
            group_per_minute=args.group_per_minute,
        ),
        faults=FaultConfig(
            latency_ms=args.latency_ms,
            latency_jitter_ms=args.latency_jitter_ms,
            error_rate=args.fail_rate,
            error_status=args.fail_status,
            flood_rate=args.flood_rate,
            drop_rate=args.drop_rate,
            methods=args.fault_methods,
            seed=args.seed,
        ),
        callback_query_ttl=args.callback_query_ttl,
        webhook_retry_base=args.webhook_retry,
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        sandbox = Sandbox(config_from_args(args))
    except ValueError as error:
        sys.exit(f"sandbox: {error}")
    if args.fail_next:
        sandbox.faults.rules.append(FaultRule(kind="error", count=args.fail_next, status=args.fail_status))
    if args.paused:
        sandbox.faults.pause()
    base = f"http://{args.host}:{args.port}"
    print(f"Sandbox chat page:  {base}/", flush=True)
    print(
        f"Bot API base_url:   {base}/bot   (python-telegram-bot: base_url=..., base_file_url={base}/file/bot)",
        flush=True,
    )
    for bot in sandbox.world.bots.values():
        print(f"Bot @{bot.user.username} (id {bot.id}) accepts token {bot.token}", flush=True)
    web.run_app(sandbox.build_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

"""The `postbox` command: local | token | directory load | directory recount | listen | redrive | counters rebuild |
web publish.

Every command talks to the local stack unless told otherwise (`--aws`, or AWS_* variables). Errors print
one line, not a traceback.
"""

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import boto3

from postbox_local import tokens
from postbox_local.state import FAILURE_QUEUE, Ports, aws_environment
from postbox_local.webpublish import PublishError, publish, stack_outputs


class CliError(Exception):
    pass


def _use_local_stack(args: argparse.Namespace) -> None:
    if getattr(args, "aws", False):
        return
    for name, value in aws_environment(Ports.from_env()).items():
        os.environ.setdefault(name, value)


def _use_table(args: argparse.Namespace) -> None:
    """The local stack (unless --aws) and the table named by --table (else the stack's, or TABLE_NAME)."""
    _use_local_stack(args)
    if args.table:
        os.environ["TABLE_NAME"] = args.table
    # the layer loads only for the commands that use it: a quick start
    from postbox.settings import reset

    reset()  # TABLE_NAME may have just changed


def _table_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--table", help="table name (default: the local stack's, or TABLE_NAME)")
    command.add_argument("--aws", action="store_true", help="use your AWS credentials instead of the local stack")


def cmd_local(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from postbox_local import iam  # the local stack's IAM check loads the template's policies: only here
    from postbox_local.stack import LocalStack  # the stack loads moto, the broker and every handler: only here

    iam.install_from_env()  # the test suite proves IAM from the calls of this stack's functions too
    ports = Ports(api=args.api_port, mqtt=args.mqtt_port, moto=args.moto_port, iot=args.iot_port, ws=args.ws_port)
    stack = LocalStack(ports=ports)
    print("Starting Postbox locally: moto server, resources from template.yaml, demo directory, broker...",
          flush=True)
    try:
        stack.start()
    except OSError as error:
        stack.stop()
        raise CliError(f"cannot start the local stack: {error} (is another one running?)") from None
    print(stack.banner(), flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    print("Stopping...", flush=True)
    stack.stop()
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    if args.app:
        _use_local_stack(args)
        from postbox.dal import keys, table  # the layer loads only for the commands that use it: a quick start

        try:
            app = table.get(keys.directory_key("app", args.app))
        except Exception as error:
            raise CliError(f"cannot read the directory (is the local stack running?): {error}") from None
        if app is None:
            raise CliError(f"no app {args.app!r} in the directory")
        print(tokens.app_token(app["client_id"]))
    elif args.user:
        print(tokens.user_token(args.user))
    else:
        raise CliError("give a USER_ID or --app PROVIDER/APP")
    return 0


def cmd_directory_recount(args: argparse.Namespace) -> int:
    _use_table(args)
    # the layer loads only for the commands that use it: a quick start
    from postbox.logic.directory import recount_members
    from postbox.settings import TableSettings

    try:
        counted = recount_members()
    except Exception as error:
        raise CliError(f"cannot recount the directory of {TableSettings.get().TABLE_NAME}: {error}") from None
    print(f"counted the members of {counted} groups, org units and authorities in {os.environ.get('TABLE_NAME')}")
    return 0


def cmd_directory_load(args: argparse.Namespace) -> int:
    _use_table(args)
    # the layer loads only for the commands that use it: a quick start
    from postbox.logic.directory import DirectoryError, parse_document, upsert
    from postbox.settings import TableSettings

    path = Path(args.file)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise CliError(f"{path}: not JSON ({error})") from None
    except (OSError, ValueError) as error:
        raise CliError(f"{path}: cannot read ({error})") from None
    try:
        summary = upsert(parse_document(data))
    except DirectoryError as error:
        for problem in error.errors:
            print(f"{path}: {problem}", file=sys.stderr)
        raise CliError(f"{path}: {len(error.errors)} problem(s); nothing was written") from None
    except Exception as error:
        raise CliError(f"cannot write the directory to {TableSettings.get().TABLE_NAME}: {error}") from None
    counts = ", ".join(f"{n} {kind}" for kind, n in summary.model_dump().items() if n)
    print(f"loaded {counts or 'nothing'} into {os.environ.get('TABLE_NAME')}")
    return 0


def cmd_listen(args: argparse.Namespace) -> int:
    from AWSIoTPythonSDK.MQTTLib import AWSIoTMQTTClient  # a dev tool's SDK: only `postbox listen` loads it

    client_id = args.client_id or f"postbox-listen-{os.getpid()}"
    client = AWSIoTMQTTClient(client_id, cleanSession=not args.persistent)
    if args.endpoint:
        if not (args.ca and args.cert and args.key):
            raise CliError("IoT Core needs --ca, --cert and --key (the thing's certificate)")
        client.configureEndpoint(args.endpoint, args.port or 8883)
        client.configureCredentials(args.ca, args.key, args.cert)
    else:
        client.configureEndpoint(args.host, args.port or Ports.from_env().mqtt)
    client.configureConnectDisconnectTimeout(10)
    client.configureMQTTOperationTimeout(10)
    received = threading.Event()
    count = 0

    def on_message(_client, _userdata, message) -> None:
        nonlocal count
        try:
            payload = json.loads(message.payload)
        except ValueError:
            payload = message.payload.decode(errors="replace")
        print(json.dumps({"topic": message.topic, "payload": payload}), flush=True)
        count += 1
        if args.count and count >= args.count:
            received.set()

    try:
        client.connect()
    except Exception as error:
        raise CliError(f"cannot connect to the broker: {error}") from None
    if not client.subscribe(args.topic, 1, on_message):
        raise CliError(f"subscription to {args.topic!r} refused")
    print(f"listening on {args.topic} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        received.wait(args.timeout or None)
    client.disconnect()
    return 0 if not args.count or count >= args.count else 1


def cmd_redrive(args: argparse.Namespace) -> int:
    _use_local_stack(args)
    # the layer loads only for the commands that use it: a quick start
    from postbox.logic.fanout import fan_out
    from postbox.logic.publisher import publish_change
    from postbox.logic.redrive import redrive

    queue_url = args.queue_url or _local_queue_url()
    report = redrive(queue_url, {"Fanout": fan_out, "Publisher": publish_change}, progress=print)
    print(f"redrove {report.batches} batch(es), {report.records} record(s); {report.skipped} skipped "
          f"(items gone since)")
    for problem in report.failed:
        print(f"not redriven: {problem}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_counters_rebuild(args: argparse.Namespace) -> int:
    _use_table(args)
    # the layer loads only for the commands that use it: a quick start
    from postbox_local.recount import rebuild_all

    done = rebuild_all(set(args.user) if args.user else None, progress=print)
    print(f"recounted {done.users} user(s) ({done.users_fixed} rebuilt) and {done.feeds} feed(s) "
          f"({done.feeds_fixed} rebuilt)")
    return 0


def cmd_web_publish(args: argparse.Namespace) -> int:

    session = boto3.session.Session(region_name=args.region)
    try:
        outputs = stack_outputs(session.client("cloudformation"), args.stack)
        publish(outputs, session.client("s3"), session.client("cloudfront"))
    except PublishError as error:
        raise CliError(str(error)) from None
    except Exception as error:
        raise CliError(f"publishing failed: {error}") from None
    return 0


def _local_queue_url() -> str:
    try:
        return boto3.client("sqs").get_queue_url(QueueName=FAILURE_QUEUE)["QueueUrl"]
    except Exception as error:
        raise CliError(f"cannot find the local failure queue (is the local stack running?): {error}") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="postbox", description="Postbox: local stack and operator tools.")
    commands = root.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run the whole stack on this machine (what `make run` starts)")
    defaults = Ports.from_env()
    local.add_argument("--api-port", type=int, default=defaults.api)
    local.add_argument("--mqtt-port", type=int, default=defaults.mqtt)
    local.add_argument("--moto-port", type=int, default=defaults.moto)
    local.add_argument("--iot-port", type=int, default=defaults.iot)
    local.add_argument("--ws-port", type=int, default=defaults.ws, help="MQTT over WebSockets (the web inbox)")
    local.set_defaults(run=cmd_local)

    token = commands.add_parser("token", help="print a local access token for a user or an app")
    token.add_argument("user", nargs="?", help="directory user id")
    token.add_argument("--app", help="PROVIDER/APP of a directory app")
    token.set_defaults(run=cmd_token)

    directory = commands.add_parser("directory", help="directory operations")
    directory_commands = directory.add_subparsers(dest="action", required=True)
    load = directory_commands.add_parser("load", help="upsert a directory file (idempotent)")
    load.add_argument("file")
    _table_arguments(load)
    load.set_defaults(run=cmd_directory_load)

    recount = directory_commands.add_parser(
        "recount", help="set the member counters of every group, org unit and authority from their members "
                        "(once, for a directory loaded before the counters existed)")
    _table_arguments(recount)
    recount.set_defaults(run=cmd_directory_recount)

    listen = commands.add_parser("listen", help="subscribe to a topic and print what arrives")
    listen.add_argument("topic")
    listen.add_argument("--host", default="127.0.0.1", help="local broker host")
    listen.add_argument("--port", type=int)
    listen.add_argument("--endpoint", help="IoT Core ATS endpoint (mutual TLS on 8883)")
    listen.add_argument("--ca")
    listen.add_argument("--cert")
    listen.add_argument("--key")
    listen.add_argument("--client-id")
    listen.add_argument("--persistent", action="store_true", help="persistent session (QoS 1 while away)")
    listen.add_argument("--count", type=int, help="exit after this many messages")
    listen.add_argument("--timeout", type=float, help="give up after this many seconds")
    listen.set_defaults(run=cmd_listen)

    redrive_cmd = commands.add_parser("redrive", help="re-process stream batches from the on-failure queue")
    redrive_cmd.add_argument("--queue-url", help="the StreamFailureQueueUrl output (default: the local stack's)")
    redrive_cmd.add_argument("--aws", action="store_true", help="use your AWS credentials instead of the local stack")
    redrive_cmd.set_defaults(run=cmd_redrive)

    counters = commands.add_parser("counters", help="the inbox and feed counters")
    counters_commands = counters.add_subparsers(dest="action", required=True)
    rebuild = counters_commands.add_parser("rebuild", help="recount every counter from the stored data")
    rebuild.add_argument("--user", action="append", help="only this user's counters (repeatable)")
    _table_arguments(rebuild)
    rebuild.set_defaults(run=cmd_counters_rebuild)

    web = commands.add_parser("web", help="the web inbox")
    web_commands = web.add_subparsers(dest="action", required=True)
    publish = web_commands.add_parser("publish", help="upload web/dist and config.json to a deployed stack")
    publish.add_argument("--stack", required=True, help="the CloudFormation stack sam deploy created")
    publish.add_argument("--region", help="its region (default: your AWS configuration's)")
    publish.set_defaults(run=cmd_web_publish)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CliError as error:
        print(f"postbox: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

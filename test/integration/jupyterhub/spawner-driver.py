"""Drives HubappsSpawner as JupyterHub would, without a hub (test/integration/jupyterhub/spawner.test.ts).

stdin: {"user", "server", "api_token", "config": {trait: value}, "state", "user_options",
"steps": [{"do": "start" | "poll" | "stop" | "options_form" | "options_from_form" | "state" |
"sse_bytewise", "formdata": {...}, "text": "..."}]}. stdout: one JSON object, {"results": [{"value"} | {"error", "message"}],
"progress": [events], "state": get_state() at the end}.

The spawner is a real HubappsSpawner on JupyterHub's own ORM (an in-memory database), with
the hub's Hub object; only the User is a stand-in with the attributes the spawner reads.
"""

import asyncio
import json
import logging
import sys
from types import SimpleNamespace

from jupyterhub import orm
from jupyterhub.objects import Hub, Server

from hubapps_spawner import HubappsSpawner, sse_events

# How long progress may go on after start returned, as the hub's progress page would wait.
PROGRESS_GRACE = 5


def make_spawner(spec):
    db = orm.new_session_factory("sqlite://")()
    user = orm.User(name=spec["user"])
    db.add(user)
    db.commit()
    orm_spawner = orm.Spawner(user=user, name=spec["server"])
    db.add(orm_spawner)
    server_url = f"/user/{spec['user']}/" + (f"{spec['server']}/" if spec["server"] else "")
    orm_spawner.server = orm.Server(base_url=server_url)
    db.commit()
    hub = Hub(base_url="/hub/", ip="127.0.0.1", port=8081)
    stand_in = SimpleNamespace(
        name=spec["user"], escaped_name=spec["user"], url=f"/user/{spec['user']}/"
    )
    spawner = HubappsSpawner(
        user=stand_in,
        hub=hub,
        orm_spawner=orm_spawner,
        api_token=spec.get("api_token", ""),
        oauth_client_id=f"jupyterhub-user-{spec['user']}-{spec['server']}",
        **spec.get("config", {}),
    )
    assert spawner.server.base_url == server_url
    spawner.load_state(spec.get("state") or {})
    spawner.user_options = spec.get("user_options") or {}
    return spawner


async def start_with_progress(spawner, progress):
    """start() with the progress generator beside it, as the hub's spawn page runs them."""

    async def follow():
        async for event in spawner.progress():
            progress.append(event)

    follower = asyncio.ensure_future(follow())
    try:
        target = await spawner.start()
    except Exception:
        # The hub stops reading progress once start has failed.
        follower.cancel()
        raise
    try:
        await asyncio.wait_for(follower, PROGRESS_GRACE)
    except asyncio.TimeoutError:
        progress.append({"driver": "progress did not end"})
    return target


async def run_step(spawner, step, progress):
    kind = step["do"]
    if kind == "start":
        return await start_with_progress(spawner, progress)
    if kind == "poll":
        return await spawner.poll()
    if kind == "stop":
        return await spawner.stop()
    if kind == "options_form":
        return await spawner.get_options_form()
    if kind == "options_from_form":
        return spawner.run_options_from_form(step["formdata"])
    if kind == "state":
        return spawner.get_state()
    if kind == "sse_bytewise":
        # The stream as a slow network may hand it over: one byte per chunk.
        chunks = asyncio.Queue()
        for byte in step["text"].encode("utf-8"):
            chunks.put_nowait(bytes([byte]))
        chunks.put_nowait(None)
        return [[event, data] async for event, data in sse_events(chunks)]
    raise ValueError(f"unknown step {kind}")


async def main():
    spec = json.load(sys.stdin)
    spawner = make_spawner(spec)
    results, progress = [], []
    for step in spec["steps"]:
        try:
            results.append({"value": await run_step(spawner, step, progress)})
        except Exception as err:  # noqa: BLE001 (the test reads the hub's view of any error)
            results.append(
                {
                    "error": type(err).__name__,
                    "message": getattr(err, "jupyterhub_message", str(err)),
                }
            )
    json.dump({"results": results, "progress": progress, "state": spawner.get_state()}, sys.stdout)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main())

"""HubappsSpawner: JupyterHub's servers, started by hubapps.

A drop-in for sudospawner (docs/jupyterhub.md, "Drop-in for sudospawner"): the hub keeps
its pages, named servers, REST API and progress bar, and this spawner asks the hubapps
service to start, watch and stop each server. hubapps runs the app as the user through
sudo and puts its per-server proxy on a loopback port, which the hub's CHP routes
/user/NAME/SERVER/ to. The hub itself never runs sudo.

One module, nothing beyond the Python standard library, JupyterHub and tornado, so that
`hubapps install --jupyterhub-spawner` can put it next to Debian's JupyterHub.
"""

import asyncio
import codecs
import json
import time
from html import escape
from urllib.parse import quote

from jupyterhub.spawner import Spawner
from jupyterhub.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Integer, Unicode, default

# hubapps' final server states (src/model/states.ts).
ENDED_STATES = ("stopped", "failed")

# Where the hub's progress bar stands at each state hubapps reports.
STATE_PROGRESS = {"pending": 10, "starting": 20, "running": 95}

# How often start and stop ask hubapps where a server stands.
WAIT_INTERVAL = 0.5

# The fields of user_options (the form's and the hub REST API's body).
OPTION_KEYS = ("app", "options", "form")


class HubappsError(Exception):
    """hubapps' refusal, or why it could not be asked; the hub shows jupyterhub_message."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.jupyterhub_message = message
        self.status = status


class HubappsUnreachable(HubappsError):
    """hubapps did not answer at all (down, restarting): not an answer about the server."""


class HubappsSpawner(Spawner):
    """Starts each JupyterHub server as a hubapps server of the same user."""

    hubapps_url = Unicode(
        "http://127.0.0.1:10101/services/hubapps/",
        help="The hubapps service as the hub reaches it: its listen address and service prefix.",
    ).tag(config=True)

    token_file = Unicode(
        "/etc/hubapps/spawner-token",
        help="File holding the spawner's token (jupyterhub.spawner_token); read at each use.",
    ).tag(config=True)

    default_server_name = Unicode(
        "default",
        help="The hubapps server name of the hub's default (unnamed) server.",
    ).tag(config=True)

    default_app = Unicode(
        "",
        help="The app started when the user names none; empty: the spawn page asks.",
    ).tag(config=True)

    stop_timeout = Integer(
        60,
        help="Seconds stop waits for hubapps to report the server stopped.",
    ).tag(config=True)

    # The hubapps server this spawner started; kept in the hub's database (get_state).
    hubapps_server = Unicode("")

    @default("options_form")
    def _default_options_form(self):
        if self.default_app:
            return ""
        return lambda spawner: spawner.render_options_form()

    @default("options_from_form")
    def _default_options_from_form(self):
        return options_from_form

    # State --------------------------------------------------------------------------

    def get_state(self):
        state = super().get_state()
        if self.hubapps_server:
            state["hubapps_server"] = self.hubapps_server
        return state

    def load_state(self, state):
        super().load_state(state)
        self.hubapps_server = state.get("hubapps_server", "")

    def clear_state(self):
        super().clear_state()
        self.hubapps_server = ""
        self.posted().clear()

    def posted(self):
        """Set once hubapps took this start: the hub may ask for progress before start runs."""
        if not hasattr(self, "_posted"):
            self._posted = asyncio.Event()
        return self._posted

    # Lifecycle ----------------------------------------------------------------------

    async def start(self):
        name = self.hubapps_name()
        self.hubapps_server = name
        body = dict(self.start_options())
        body["hub"] = self.hub_binding()
        body["start_timeout"] = self.start_timeout
        try:
            await self.hubapps("POST", self.server_path(name), body)
        except HubappsError as err:
            if err.status != 409 or not await self.ended_stale(name):
                raise
            await self.hubapps("POST", self.server_path(name), body)
        self.posted().set()
        server = await self.wait_for(name, self.start_timeout, until_running=True)
        return server["hub_target"]

    async def poll(self):
        if not self.hubapps_server:
            return 0
        try:
            server = await self.hubapps("GET", self.server_path(self.hubapps_server))
        except HubappsUnreachable as err:
            # A restart of hubapps must not end the server at the hub.
            self.log.warning("%s: %s; assuming it still runs", self._log_name, err)
            return None
        except HubappsError as err:
            if err.status == 404:
                return 0
            self.log.warning("%s: %s; assuming it still runs", self._log_name, err)
            return None
        return 0 if server.get("state") in ENDED_STATES else None

    async def stop(self, now=False):
        await self.stop_server(self.hubapps_server or self.hubapps_name())

    async def ended_stale(self, name):
        """
        Stop a server of this name the hub started earlier and lost track of (it died during
        a start, or its database was restored): the hub starts a server only when it holds
        none, so hubapps' one is stale. A server started from the launcher is not the hub's
        (hubapps refuses to show it here), and stays.
        """
        try:
            await self.hubapps("GET", self.server_path(name))
        except HubappsError:
            return False
        self.log.warning(
            "%s: hubapps still has %s from an earlier start; stopping it", self._log_name, name
        )
        await self.stop_server(name)
        return True

    async def stop_server(self, name):
        try:
            await self.hubapps("DELETE", self.server_path(name))
        except HubappsError as err:
            if err.status == 404:
                return
            raise
        await self.wait_for(name, self.stop_timeout, until_running=False)

    async def wait_for(self, name, timeout, until_running):
        """Ask until the server runs with a target (start) or has ended (stop)."""
        deadline = time.monotonic() + timeout
        path = self.server_path(name)
        while True:
            try:
                server = await self.hubapps("GET", path)
            except HubappsUnreachable:
                server = None
            except HubappsError as err:
                if err.status == 404 and not until_running:
                    return None
                raise
            state = server and server.get("state")
            if until_running and state == "running" and server.get("hub_target"):
                return server
            if state in ENDED_STATES:
                if not until_running:
                    return server
                reason = server.get("reason") or state
                raise HubappsError(f"hubapps could not start {name}: {reason}")
            if time.monotonic() >= deadline:
                goal = "to run" if until_running else "to stop"
                raise HubappsError(
                    f"hubapps' server {name} did not come {goal} within {timeout} s"
                    f" (last state: {state or 'hubapps unreachable'})"
                )
            await asyncio.sleep(WAIT_INTERVAL)

    async def progress(self):
        await self.posted().wait()
        url = self.service_url(self.server_path(self.hubapps_server) + "/progress")
        chunks = asyncio.Queue()
        request = HTTPRequest(
            url,
            headers={"Authorization": f"token {self.read_token()}"},
            streaming_callback=chunks.put_nowait,
            request_timeout=self.start_timeout + 30,
        )
        fetch = AsyncHTTPClient().fetch(request, raise_error=False)

        def ended(future):
            # However the stream ended (a lost connection too), the messages just stop.
            future.exception()
            chunks.put_nowait(None)

        fetch.add_done_callback(ended)
        at = STATE_PROGRESS["starting"]
        async for kind, data in sse_events(chunks):
            if kind == "done":
                if data.get("state") == "failed":
                    yield {"message": f"failed: {data.get('reason') or 'no reason given'}"}
                return
            if kind == "state":
                at = max(at, STATE_PROGRESS.get(data.get("state"), at))
            elif kind == "progress":
                # Each message closes a quarter of the gap to 90: it moves, never finishes.
                at = min(at + ((90 - at) // 4 or 1), 90)
            yield {"progress": at, "message": data.get("message") or data.get("state") or kind}

    # The launch form ----------------------------------------------------------------

    async def render_options_form(self):
        try:
            answer = await self.hubapps(
                "GET", f"api/hub/users/{quote(self.user.name, safe='')}/apps"
            )
        except HubappsError as err:
            # The spawn page shows this instead of the hub's bare 500; a start still says why it fails.
            self.log.warning("hubapps could not list the apps of %s: %s", self.user.name, err)
            return f'<p class="alert alert-warning">The list of apps is not available: {escape(str(err))}</p>'
        apps = [a for a in answer.get("apps", []) if a.get("usable", True) and not a.get("hidden")]
        return render_form(apps)

    # hubapps' API -------------------------------------------------------------------

    def hubapps_name(self):
        """The hub's server name is the hubapps server name; the default one has its own."""
        return self.name or self.default_server_name

    def server_path(self, name):
        user = quote(self.user.name, safe="")
        return f"api/hub/users/{user}/servers/{quote(name, safe='')}"

    def service_url(self, path):
        return url_path_join(self.hubapps_url, path)

    def start_options(self):
        """user_options as hubapps' start body: the app (or default_app), options, form values."""
        options = self.user_options or {}
        extra = sorted(set(options) - set(OPTION_KEYS))
        if extra:
            raise HubappsError(
                f"unknown user option '{extra[0]}': expected {', '.join(OPTION_KEYS)}"
            )
        app = options.get("app") or self.default_app
        if not app:
            raise HubappsError("choose an app (user option 'app')")
        return {
            "app": app,
            "options": options.get("options") or {},
            "form": options.get("form") or {},
        }

    def hub_binding(self):
        """What hubapps' proxy needs to let the hub's users in, as the hub gave it."""
        env = self.get_env()
        return {
            "server": self.name,
            "prefix": self.server.base_url,
            "api_url": env["JUPYTERHUB_API_URL"].rstrip("/") + "/",
            "authorize_path": url_path_join(self.hub.base_url, "api/oauth2/authorize"),
            "api_token": self.api_token,
            "client_id": self.oauth_client_id,
            "callback_path": env["JUPYTERHUB_OAUTH_CALLBACK_URL"],
            "access_scopes": list(self.oauth_access_scopes),
        }

    def read_token(self):
        try:
            with open(self.token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as err:
            raise HubappsError(
                f"cannot read the hubapps spawner token from {self.token_file}"
                f" (HubappsSpawner.token_file): {err.strerror}"
            ) from None
        if not token:
            raise HubappsError(
                f"the hubapps spawner token file {self.token_file}"
                " (HubappsSpawner.token_file) is empty"
            )
        return token

    async def hubapps(self, method, path, body=None):
        """One call of hubapps' spawner API: its JSON answer, or HubappsError with its message."""
        url = self.service_url(path)
        headers = {"Authorization": f"token {self.read_token()}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
            request_timeout=self.http_timeout,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as err:
            raise HubappsUnreachable(
                f"hubapps at {self.hubapps_url} is unreachable: {err}"
            ) from None
        if response.code == 599:
            raise HubappsUnreachable(
                f"hubapps at {self.hubapps_url} is unreachable: {response.error or 'no answer'}"
            )
        try:
            answer = json.loads(response.body or b"null")
        except ValueError:
            answer = None
        if response.code >= 400:
            message = answer.get("message") if isinstance(answer, dict) else None
            raise HubappsError(
                message or f"hubapps answered {response.code} to {method} {path}", response.code
            )
        return answer


async def sse_events(chunks):
    """(event, data) of a Server-Sent Events stream arriving on a queue (None: its end)."""
    buffer = ""
    # A chunk may end inside a character: decode across chunks.
    decoder = codecs.getincrementaldecoder("utf-8")()
    while True:
        chunk = await chunks.get()
        if chunk is None:
            return
        buffer += decoder.decode(chunk)
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            kind, data = "message", []
            for line in block.split("\n"):
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
            if data:
                yield kind, json.loads("\n".join(data))


def options_from_form(formdata):
    """The spawn page's fields ({"app": [...], "APP.FIELD.KIND": [...]}) as user_options."""
    app = (formdata.get("app") or [""])[0]
    values = {}
    for key, given in formdata.items():
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != app or not given:
            continue
        _, field, kind = parts
        # A checkbox sends a hidden "false" first and "true" after it when ticked.
        value = given[-1]
        if kind == "checkbox":
            values[field] = value == "true"
        elif kind == "number":
            try:
                number = float(value)
            except ValueError:
                raise HubappsError(f"{field}: '{value}' is not a number") from None
            values[field] = int(number) if number.is_integer() else number
        else:
            values[field] = value
    options = {"app": app}
    if values:
        options["form"] = values
    return options


def render_form(apps):
    """The spawn page's form: one choice per app, each with its launch-form fields."""
    if not apps:
        return "<p>There is no app you may start.</p>"
    parts = []
    for i, app in enumerate(apps):
        name = app["name"]
        checked = " checked" if i == 0 else ""
        title = escape(app.get("title") or name)
        description = escape(app.get("description") or "")
        parts.append(
            '<div class="radio"><label>'
            f'<input type="radio" name="app" value="{escape(name)}"{checked}> '
            f"<strong>{title}</strong> {description}</label></div>"
        )
        remembered = app.get("form_values") or {}
        fields = "".join(
            render_field(name, f, remembered.get(f["name"], f.get("default")))
            for f in app.get("form") or []
        )
        if fields:
            parts.append(f'<div class="form-group" style="margin-left: 2em">{fields}</div>')
    return "\n".join(parts)


def render_field(app, field, value):
    kind = field.get("type")
    base = f"{app}.{field['name']}"
    label = escape(field.get("label") or field["name"])
    help_text = field.get("help")
    help_html = f'<small class="help-block">{escape(help_text)}</small>' if help_text else ""
    attr = lambda v: escape("" if v is None else str(v), quote=True)  # noqa: E731
    if kind == "select":
        name = f"{base}.text"
        options = "".join(
            f'<option value="{attr(o["value"])}"{" selected" if o["value"] == value else ""}>'
            f'{escape(o.get("label") or o["value"])}</option>'
            for o in field.get("options") or []
        )
        control = f'<select class="form-control" name="{attr(name)}">{options}</select>'
    elif kind == "number":
        name = f"{base}.number"
        bounds = "".join(
            f' {key}="{attr(field[key])}"'
            for key in ("min", "max", "step")
            if field.get(key) is not None
        )
        control = (
            f'<input class="form-control" type="number" name="{attr(name)}"'
            f' value="{attr(value)}"{bounds}>'
        )
    elif kind == "checkbox":
        name = f"{base}.checkbox"
        ticked = " checked" if value else ""
        control = (
            f'<input type="hidden" name="{attr(name)}" value="false">'
            f'<input type="checkbox" name="{attr(name)}" value="true"{ticked}>'
        )
    else:
        name = f"{base}.text"
        limit = f' maxlength="{attr(field["max_length"])}"' if field.get("max_length") else ""
        control = (
            f'<input class="form-control" type="text" name="{attr(name)}"'
            f' value="{attr(value)}"{limit}>'
        )
    return f'<div><label>{label} {control}</label>{help_html}</div>'

"""A small GitHub on 127.0.0.1: the REST API subset the GitHub forge uses, and git over HTTP.

Written from GitHub's public REST reference: the JSON shapes of repositories, pull
requests, reviews, labels, issue comments, commits, statuses and merges (the fields
PyGithub reads, with GitHub's names and types), ``Link`` pagination headers
(``per_page``/``page``), the ``x-ratelimit-*`` headers on every answer, and the
rate-limit answers GitHub gives (403 or 429 with ``x-ratelimit-remaining: 0`` and
``x-ratelimit-reset``), which a test can inject. The API lives under ``/api/v3`` (as on
GitHub Enterprise Server).

A test can also make one route fail (:meth:`FakeGitHub.inject_fault`): answer an error
status such as 500, hang without doing the work, or do the work and never answer (the
answer lost on the way back, so the client times out after GitHub acted); and refuse
every push (:attr:`FakeGitHub.git_writable`), as GitHub does for a token without
``contents: write``.

Git is served at ``/OWNER/NAME.git`` by ``git http-backend`` (smart HTTP) from a bare
repository standing in for GitHub's, and only to a request carrying a known token (as
``Authorization: Basic x-access-token:TOKEN``); the server reads branch heads from that
repository, keeps ``refs/pull/N/head`` up to date, and performs squash merges in it.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = ["FakeGitHub", "User"]

API = "/api/v3"
BOT = "github-actions[bot]"


@dataclass(frozen=True)
class User:
    login: str
    id: int
    type: str = "User"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    mode: str  # "status": answer ``status``; "hang": no work, no answer; "lost": work, no answer
    status: int
    times: int


@dataclass
class _Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    user: User
    created_at: str
    updated_at: str
    state: str = "open"
    closed_at: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    merged_head: str | None = None
    merged_by: User | None = None
    labels: list[str] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


class FakeGitHub:
    """One repository ``owner/name`` on a local GitHub; ``bare`` is its git repository."""

    def __init__(self, bare: Path, repository: str = "acme/strategy") -> None:
        self.bare = bare
        self.repository = repository
        self.owner, self.name = repository.split("/")
        self.users: dict[str, User] = {}
        self.pulls: dict[int, _Pull] = {}
        self.statuses: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.git_auth: list[str] = []
        self._injected: list[tuple[int, float]] = []
        self._faults: list[_Fault] = []
        self._release = threading.Event()
        self.git_writable = True
        """False: every push is refused with 403, as for a token that may not write."""
        self._lock = threading.RLock()
        self._ids = iter(range(1000, 10**9))
        self.server: ThreadingHTTPServer | None = None

    # -- set-up ------------------------------------------------------------------------

    def add_user(self, token: str, login: str, *, bot: bool = False) -> User:
        user = User(login=login, id=next(self._ids), type="Bot" if bot else "User")
        self.users[token] = user
        return user

    def inject_rate_limit(self, *, status: int = 403, times: int = 1,
                          reset_in: float = 1.0) -> None:
        """Answer the next ``times`` API requests as rate limited until ``reset_in`` s."""
        with self._lock:
            self._injected += [(status, reset_in)] * times

    def inject_fault(self, method: str, path: str, *, status: int = 500, times: int = 1,
                     mode: str = "status") -> None:
        """Make the next ``times`` API requests ``method`` whose path under
        ``/repos/OWNER/NAME`` fully matches the regular expression ``path`` fail:
        ``mode="status"`` answers ``status``; ``"hang"`` neither does the work nor answers;
        ``"lost"`` does the work and never answers. A request left hanging is dropped
        when :meth:`stop` is called (the client has timed out long before)."""
        if mode not in ("status", "hang", "lost"):
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self._faults.append(_Fault(method, re.compile(path), mode, status, times))

    def _fault(self, method: str, path: str) -> _Fault | None:
        rest = path.removeprefix(f"{API}/repos/{self.repository}")
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.path.fullmatch(rest):
                    fault.times -= 1
                    return fault
        return None

    def hold(self) -> None:
        """Keep a hanging request's thread until :meth:`stop`."""
        self._release.wait(timeout=600)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + API

    def replica(self, bare: Path) -> FakeGitHub:
        """Another GitHub (not started) with this one's users, pull requests, reviews and
        statuses, over ``bare``: a copy of this one's repository. Records edited on one
        do not change the other's."""
        other = FakeGitHub(bare, self.repository)
        with self._lock:
            other.users = dict(self.users)
            other.pulls = copy.deepcopy(self.pulls)
            other.statuses = copy.deepcopy(self.statuses)
            other._ids = iter(range(next(self._ids), 10**9))
        return other

    def start(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"hub": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- what a person does on github.com ----------------------------------------------

    def review_as(self, token: str, number: int, state: str, *, body: str = "",
                  commit_id: str | None = None) -> dict[str, Any]:
        """A review as a person submits it in the web page (``APPROVED`` etc.)."""
        with self._lock:
            pull = self.pulls[number]
            return self._add_review(pull, self.users[token], body, state,
                                    commit_id or self._head(pull))

    # -- git -------------------------------------------------------------------------

    def git(self, *args: str, input: bytes | None = None) -> str:
        done = subprocess.run(["git", "--git-dir", str(self.bare), *args], input=input,
                              capture_output=True, check=True)
        return done.stdout.decode().strip()

    def branch_sha(self, branch: str) -> str | None:
        done = subprocess.run(["git", "--git-dir", str(self.bare), "rev-parse", "--verify",
                               "--quiet", f"refs/heads/{branch}"], capture_output=True)
        return done.stdout.decode().strip() or None

    def _head(self, pull: _Pull) -> str:
        if pull.merged_head:
            return pull.merged_head
        sha = self.branch_sha(pull.head)
        if sha is None:
            raise ApiError(422, f"head branch {pull.head} does not exist")
        return sha

    def sync_pull_refs(self) -> None:
        with self._lock:
            for pull in self.pulls.values():
                if pull.state == "open" and self.branch_sha(pull.head):
                    self.git("update-ref", f"refs/pull/{pull.number}/head", self._head(pull))

    # -- JSON shapes -------------------------------------------------------------------

    def _user(self, user: User) -> dict[str, Any]:
        return {"login": user.login, "id": user.id, "node_id": f"U_{user.id}",
                "type": user.type, "site_admin": False,
                "url": f"{self.api_url}/users/{user.login}",
                "html_url": f"{self.url}/{user.login}"}

    def _repo_json(self) -> dict[str, Any]:
        owner = User(login=self.owner, id=1, type="Organization")
        return {"id": 42, "node_id": "R_42", "name": self.name, "full_name": self.repository,
                "owner": self._user(owner), "private": True, "fork": False,
                "html_url": f"{self.url}/{self.repository}",
                "url": f"{self.api_url}/repos/{self.repository}",
                "default_branch": "main", "visibility": "private",
                "clone_url": f"{self.url}/{self.repository}.git",
                "permissions": {"admin": False, "push": True, "pull": True}}

    def _label(self, name: str) -> dict[str, Any]:
        return {"id": abs(hash(name)) % 10**8, "node_id": f"LA_{name}",
                "url": f"{self.api_url}/repos/{self.repository}/labels/{name}",
                "name": name, "color": "ededed", "default": False, "description": None}

    def _ref(self, pull: _Pull, which: str) -> dict[str, Any]:
        branch = pull.head if which == "head" else pull.base
        sha = self._head(pull) if which == "head" else (self.branch_sha(branch) or "")
        if which == "head" and pull.state == "open":  # GitHub keeps refs/pull/N/head current
            self.git("update-ref", f"refs/pull/{pull.number}/head", sha)
        repo = self._repo_json()
        return {"label": f"{self.owner}:{branch}", "ref": branch, "sha": sha,
                "user": repo["owner"], "repo": repo}

    def _pull_json(self, pull: _Pull) -> dict[str, Any]:
        base = f"{self.api_url}/repos/{self.repository}"
        return {
            "url": f"{base}/pulls/{pull.number}", "id": 5000 + pull.number,
            "node_id": f"PR_{pull.number}", "number": pull.number,
            "html_url": f"{self.url}/{self.repository}/pull/{pull.number}",
            "issue_url": f"{base}/issues/{pull.number}", "state": pull.state,
            "locked": False, "title": pull.title, "user": self._user(pull.user),
            "body": pull.body, "labels": [self._label(n) for n in pull.labels],
            "created_at": pull.created_at, "updated_at": pull.updated_at,
            "closed_at": pull.closed_at, "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha, "draft": False,
            "head": self._ref(pull, "head"), "base": self._ref(pull, "base"),
            "merged": pull.merged_at is not None,
            "mergeable": None if pull.state != "open" else True,
            "mergeable_state": "clean" if pull.state == "open" else "unknown",
            "merged_by": self._user(pull.merged_by) if pull.merged_by else None,
            "comments": len(pull.comments), "review_comments": 0,
            "commits": 1, "additions": 0, "deletions": 0, "changed_files": 0,
            "author_association": "MEMBER",
        }

    def _add_review(self, pull: _Pull, user: User, body: str, state: str,
                    commit_id: str) -> dict[str, Any]:
        rid = next(self._ids)
        review = {
            "id": rid, "node_id": f"PRR_{rid}", "user": self._user(user), "body": body,
            "state": state, "commit_id": commit_id, "submitted_at": _now(),
            "html_url": f"{self.url}/{self.repository}/pull/{pull.number}#review-{rid}",
            "pull_request_url": f"{self.api_url}/repos/{self.repository}/pulls/{pull.number}",
            "author_association": "MEMBER"}
        pull.reviews.append(review)
        return review

    def _commit_json(self, sha: str) -> dict[str, Any]:
        fmt = "%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        try:
            out = self.git("show", "-s", f"--format={fmt}", f"{sha}^{{commit}}")
        except subprocess.CalledProcessError:
            raise ApiError(422, f"No commit found for SHA: {sha}") from None
        tree, parents, an, ae, ad, cn, ce, cd, message = out.split("\0", 8)
        full = self.git("rev-parse", f"{sha}^{{commit}}")
        url = f"{self.api_url}/repos/{self.repository}/commits/{full}"
        return {"sha": full, "node_id": f"C_{full}", "url": url,
                "html_url": f"{self.url}/{self.repository}/commit/{full}",
                "commit": {"message": message.rstrip("\n"),
                           "author": {"name": an, "email": ae, "date": ad},
                           "committer": {"name": cn, "email": ce, "date": cd},
                           "tree": {"sha": tree, "url": url}},
                "parents": [{"sha": p, "url": f"{self.api_url}/repos/{self.repository}/"
                                                f"commits/{p}"} for p in parents.split()],
                "author": None, "committer": None}

    # -- the API -----------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any,
               user: User) -> tuple[int, Any]:
        prefix = f"/repos/{self.repository}"
        if path == "/user":
            if user.type == "Bot":
                raise ApiError(403, "Resource not accessible by integration")
            return 200, self._user(user)
        if not path.startswith(prefix):
            raise ApiError(404, "Not Found")
        rest = path[len(prefix):]
        for pattern, verb, action in self._routes():
            match = re.fullmatch(pattern, rest)
            if match and verb == method:
                with self._lock:
                    return action(user, query, body, *match.groups())
        raise ApiError(404, "Not Found")

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any]]]]:
        return [
            (r"", "GET", lambda u, q, b: (200, self._repo_json())),
            (r"/pulls", "GET", self._list_pulls),
            (r"/pulls", "POST", self._create_pull),
            (r"/pulls/(\d+)", "GET", lambda u, q, b, n: (200, self._pull_json(self._get(n)))),
            (r"/pulls/(\d+)", "PATCH", self._edit_pull),
            (r"/pulls/(\d+)/reviews", "GET", lambda u, q, b, n: (200, self._get(n).reviews)),
            (r"/pulls/(\d+)/reviews", "POST", self._create_review),
            (r"/pulls/(\d+)/merge", "PUT", self._merge),
            (r"/issues/(\d+)/labels", "GET", lambda u, q, b, n: (
                200, [self._label(x) for x in self._get(n).labels])),
            (r"/issues/(\d+)/labels", "POST", lambda u, q, b, n: self._labels(n, b, add=True)),
            (r"/issues/(\d+)/labels", "PUT", lambda u, q, b, n: self._labels(n, b, add=False)),
            (r"/issues/(\d+)/comments", "GET", lambda u, q, b, n: (200, self._get(n).comments)),
            (r"/issues/(\d+)/comments", "POST", self._comment),
            (r"/commits/([0-9a-f]{4,40})", "GET", lambda u, q, b, s: (200, self._commit_json(s))),
            (r"/statuses/([0-9a-f]{40})", "POST", self._create_status),
            (r"/commits/([^/]+)/statuses", "GET", lambda u, q, b, s: (
                200, list(reversed(self.statuses.get(self._resolve(s), []))))),
            (r"/git/ref/heads/(.+)", "GET", self._get_ref),
        ]

    def _get(self, number: str | int) -> _Pull:
        pull = self.pulls.get(int(number))
        if pull is None:
            raise ApiError(404, "Not Found")
        return pull

    def _resolve(self, ref: str) -> str:
        try:
            return self.git("rev-parse", "--verify", f"{ref}^{{commit}}")
        except subprocess.CalledProcessError:
            raise ApiError(422, f"No commit found for SHA: {ref}") from None

    def _list_pulls(self, user: User, query: dict[str, str], body: Any) -> tuple[int, Any]:
        state = query.get("state", "open")
        pulls = sorted(self.pulls.values(), key=lambda p: p.number,
                       reverse=query.get("direction", "desc") == "desc")
        if state != "all":
            pulls = [p for p in pulls if p.state == state]
        if "head" in query:
            pulls = [p for p in pulls if f"{self.owner}:{p.head}" == query["head"]]
        if "base" in query:
            pulls = [p for p in pulls if p.base == query["base"]]
        return 200, [self._pull_json(p) for p in pulls]

    def _create_pull(self, user: User, query: dict[str, str], body: Any) -> tuple[int, Any]:
        head, base = body.get("head", ""), body.get("base", "")
        head = head.split(":", 1)[-1]
        if not body.get("title"):
            raise ApiError(422, "Validation Failed: title is missing")
        for branch in (head, base):
            if self.branch_sha(branch) is None:
                raise ApiError(422, f"Validation Failed: no branch {branch}")
        if any(p.head == head and p.state == "open" for p in self.pulls.values()):
            raise ApiError(422, f"A pull request already exists for {self.owner}:{head}.")
        number = max(self.pulls, default=0) + 1
        now = _now()
        pull = _Pull(number=number, title=body["title"], body=body.get("body") or "",
                     head=head, base=base, user=user, created_at=now, updated_at=now)
        self.pulls[number] = pull
        self.sync_pull_refs()
        return 201, self._pull_json(pull)

    def _edit_pull(self, user: User, query: dict[str, str], body: Any,
                   number: str) -> tuple[int, Any]:
        pull = self._get(number)
        for key in ("title", "body"):
            if key in body:
                setattr(pull, key, body[key] or "")
        if body.get("state") in ("open", "closed") and pull.merged_at is None:
            pull.state = body["state"]
            pull.closed_at = _now() if pull.state == "closed" else None
        pull.updated_at = _now()
        return 200, self._pull_json(pull)

    def _create_review(self, user: User, query: dict[str, str], body: Any,
                       number: str) -> tuple[int, Any]:
        pull = self._get(number)
        if pull.state != "open":
            raise ApiError(422, "Unprocessable Entity: the pull request is closed")
        event = body.get("event", "COMMENT")
        state = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED",
                 "REQUEST_CHANGES": "CHANGES_REQUESTED"}.get(event)
        if state is None:
            raise ApiError(422, f"Validation Failed: event {event!r}")
        if state != "COMMENTED" and pull.user == user:
            raise ApiError(422, "Unprocessable Entity: Can not approve your own pull request")
        commit = body.get("commit_id") or self._head(pull)
        self._resolve(commit)
        return 200, self._add_review(pull, user, body.get("body") or "", state, commit)

    def _labels(self, number: str, body: Any, *, add: bool) -> tuple[int, Any]:
        pull = self._get(number)
        names = body.get("labels", body) if isinstance(body, dict) else body
        names = [n["name"] if isinstance(n, dict) else str(n) for n in (names or [])]
        pull.labels = list(dict.fromkeys([*pull.labels, *names] if add else names))
        return 200, [self._label(n) for n in pull.labels]

    def _comment(self, user: User, query: dict[str, str], body: Any,
                 number: str) -> tuple[int, Any]:
        pull = self._get(number)
        cid = next(self._ids)
        base = f"{self.api_url}/repos/{self.repository}"
        comment = {"id": cid, "node_id": f"IC_{cid}", "url": f"{base}/issues/comments/{cid}",
                   "html_url": f"{self.url}/{self.repository}/pull/{number}#issuecomment-{cid}",
                   "body": body.get("body", ""), "user": self._user(user),
                   "created_at": _now(), "updated_at": _now(),
                   "issue_url": f"{base}/issues/{number}", "author_association": "MEMBER"}
        pull.comments.append(comment)
        return 201, comment

    def _create_status(self, user: User, query: dict[str, str], body: Any,
                       sha: str) -> tuple[int, Any]:
        self._resolve(sha)
        if body.get("state") not in ("error", "failure", "pending", "success"):
            raise ApiError(422, "Validation Failed: state")
        sid = next(self._ids)
        status = {"url": f"{self.api_url}/repos/{self.repository}/statuses/{sha}", "id": sid,
                  "node_id": f"SC_{sid}", "state": body["state"],
                  "description": body.get("description"), "target_url": body.get("target_url"),
                  "context": body.get("context", "default"), "created_at": _now(),
                  "updated_at": _now(), "creator": self._user(user)}
        self.statuses.setdefault(sha, []).append(status)
        return 201, status

    def _get_ref(self, user: User, query: dict[str, str], body: Any,
                 branch: str) -> tuple[int, Any]:
        sha = self.branch_sha(branch)
        if sha is None:
            raise ApiError(404, "Not Found")
        url = f"{self.api_url}/repos/{self.repository}/git/refs/heads/{branch}"
        return 200, {"ref": f"refs/heads/{branch}", "node_id": f"REF_{branch}", "url": url,
                     "object": {"type": "commit", "sha": sha, "url": url}}

    def _merge(self, user: User, query: dict[str, str], body: Any,
               number: str) -> tuple[int, Any]:
        pull = self._get(number)
        if pull.state != "open":
            raise ApiError(405, "Pull Request is not mergeable")
        head = self._head(pull)
        if body.get("sha") and body["sha"] != head:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        if body.get("merge_method", "merge") != "squash":
            raise ApiError(405, "Merge commits are not allowed on this repository.")
        base = self.branch_sha(pull.base)
        assert base is not None
        done = subprocess.run(["git", "--git-dir", str(self.bare), "merge-tree",
                               "--write-tree", base, head], capture_output=True)
        if done.returncode != 0:
            raise ApiError(405, "Pull Request is not mergeable")
        tree = done.stdout.decode().split("\n", 1)[0]
        title = body.get("commit_title") or f"{pull.title} (#{pull.number})"
        message = title + ("\n\n" + body["commit_message"] if body.get("commit_message")
                           else "") + "\n"
        author = pull.user
        env = {"GIT_AUTHOR_NAME": author.login,
               "GIT_AUTHOR_EMAIL": f"{author.id}+{author.login}@users.noreply.github.com",
               "GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.com",
               "PATH": "/usr/bin:/bin"}
        sha = subprocess.run(["git", "--git-dir", str(self.bare), "commit-tree", tree, "-p",
                              base, "-F", "-"], input=message.encode(), env=env,
                             capture_output=True, check=True).stdout.decode().strip()
        self.git("update-ref", f"refs/heads/{pull.base}", sha, base)
        pull.state, pull.merged_at, pull.closed_at = "closed", _now(), _now()
        pull.merge_commit_sha, pull.merged_head, pull.merged_by = sha, head, user
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


class _Handler(BaseHTTPRequestHandler):
    hub: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _user(self) -> User | None:
        auth = self.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("token", "bearer"):
            return self.hub.users.get(value.strip())
        if scheme.lower() == "basic":
            try:
                _, _, token = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return None
            return self.hub.users.get(token)
        return None

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _dispatch(self, method: str) -> None:
        hub = self.hub
        url = urlsplit(self.path)
        body = self._body()
        if url.path.startswith(f"/{hub.repository}.git/"):
            return self._git(method, url.path, url.query, body)
        hub.requests.append((method, self.path))
        reset = int(time.time()) + 3600
        limit = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
                 "x-ratelimit-used": "1", "x-ratelimit-resource": "core",
                 "x-github-api-version-selected": "2022-11-28"}
        with hub._lock:
            injected = hub._injected.pop(0) if hub._injected else None
        if injected is not None:
            status, reset_in = injected
            headers = {**limit, "Content-Type": "application/json; charset=utf-8",
                       "x-ratelimit-remaining": "0",
                       "x-ratelimit-reset": str(int(time.time() + reset_in))}
            message = {"message": "API rate limit exceeded for installation ID 1.",
                       "documentation_url": "https://docs.github.com/rest/overview/"
                                            "rate-limits-for-the-rest-api"}
            return self._send(status, json.dumps(message).encode(), headers)
        user = self._user()
        headers = {**limit, "x-ratelimit-reset": str(reset),
                   "Content-Type": "application/json; charset=utf-8"}
        if user is None:
            return self._send(401, json.dumps({"message": "Bad credentials"}).encode(), headers)
        if not url.path.startswith(API):
            return self._send(404, json.dumps({"message": "Not Found"}).encode(), headers)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        fault = hub._fault(method, url.path)
        if fault is not None and fault.mode == "status":
            return self._send(fault.status, json.dumps({
                "message": "Server Error" if fault.status >= 500 else "Injected fault"
            }).encode(), headers)
        if fault is not None and fault.mode == "hang":
            hub.hold()
            self.close_connection = True
            return None
        try:
            payload = json.loads(body) if body else {}
            status, result = hub.handle(method, url.path[len(API):], query, payload, user)
            if fault is not None:  # "lost": GitHub did the work; its answer never arrives
                hub.hold()
                self.close_connection = True
                return None
        except ApiError as error:
            return self._send(error.status, json.dumps({
                "message": error.message,
                "documentation_url": "https://docs.github.com/rest"}).encode(), headers)
        if isinstance(result, list) and method == "GET":
            result = self._page(url.path, query, result, headers)
        self._send(status, json.dumps(result).encode(), headers)

    def _page(self, path: str, query: dict[str, str], items: list[Any],
              headers: dict[str, str]) -> list[Any]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []

        def link(number: int, rel: str) -> str:
            params = urlencode({**query, "page": number})
            return f'<{self.hub.url}{path}?{params}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        if links:
            headers["Link"] = ", ".join(links)
        return items[(page - 1) * per_page: page * per_page]

    def _git(self, method: str, path: str, query: str, body: bytes) -> None:
        user = self._user()
        self.hub.git_auth.append(user.login if user else "")
        if user is None:
            return self._send(401, b"Authentication required\n",
                              {"WWW-Authenticate": 'Basic realm="GitHub"'})
        relative = path[len(f"/{self.hub.repository}.git"):]
        if not self.hub.git_writable and "git-receive-pack" in f"{relative}?{query}":
            return self._send(403, f"Permission to {self.hub.repository}.git denied to "
                                   f"{user.login}.\n".encode(), {})
        root = self.hub.bare.parent
        env = {"GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": f"/{self.hub.bare.name}{relative}", "QUERY_STRING": query,
               "REQUEST_METHOD": method, "REMOTE_USER": user.login, "REMOTE_ADDR": "127.0.0.1",
               "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "PATH": "/usr/bin:/bin",
               "GIT_HTTP_MAX_REQUEST_BUFFER": "100M"}
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        done = subprocess.run(["git", "http-backend"], input=body, env=env,
                              capture_output=True)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                headers[key] = value.strip()
        if relative.endswith("git-receive-pack"):
            self.hub.sync_pull_refs()
        self._send(status, payload, headers)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


# -- a project on the local GitHub, for tests -------------------------------------------

BOT_TOKEN = "ghs_bot0123456789abcdefSECRET"
ALICE_TOKEN = "ghp_alice0123456789SECRET"
MALLORY_TOKEN = "ghp_mallory0123456789SECRET"


def serve_clone(project: Path, root: Path, repository: str = "acme/strategy"
                ) -> tuple[FakeGitHub, Path]:
    """GitHub holding a bare copy of ``project`` and a clone of it as Actions checks it out
    (``origin`` is the plain HTTP URL; no credentials anywhere): (server, clone)."""
    bare = root / "remote" / f"{repository.split('/')[1]}.git"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "--quiet", "--bare", str(project), str(bare)], check=True)
    hub = FakeGitHub(bare, repository).start()
    hub.add_user(BOT_TOKEN, BOT, bot=True)
    hub.add_user(ALICE_TOKEN, "alice")
    hub.add_user(MALLORY_TOKEN, "mallory")
    clone = root / "checkout"
    subprocess.run(["git", "clone", "--quiet", str(bare), str(clone)], check=True)
    for key, value in (("remote.origin.url", f"{hub.url}/{repository}.git"),
                       ("user.name", "Test Human"), ("user.email", "human@example.com")):
        subprocess.run(["git", "-C", str(clone), "config", key, value], check=True)
    return hub, clone


def github_env(hub: FakeGitHub, token: str = BOT_TOKEN) -> dict[str, str]:
    """The variables GitHub Actions sets for a job, pointed at ``hub`` (``GITHUB_ACTIONS``
    is "false": the tests' review key is a key file, as on a person's machine, even
    when the tests themselves run in Actions)."""
    return {"GITHUB_REPOSITORY": hub.repository, "GITHUB_TOKEN": token,
            "GITHUB_API_URL": hub.api_url, "GITHUB_SERVER_URL": hub.url,
            "ALPHALOOP_GITHUB_WRITE_INTERVAL": "0", "GITHUB_ACTIONS": "false"}

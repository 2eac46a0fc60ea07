"""What the SDK checks share: settings from the environment, a test image, image checks, and the
case runner that prints one JSON line per case and sets the exit status.

Environment (see ../README.md):
  IMG2IMG_BASE_URL        origin of the emulator (or capture server), e.g. http://127.0.0.1:8080
  IMG2IMG_FAULT_BASE_URL  optional: an emulator started with `--fault fail=<reason>`, for SDKs that
                          cannot send the x-emulator-fault header
  IMG2IMG_FAULT_KEY       optional: a key the emulator fails every job for (`--key-fault KEY=fail=<reason>`),
                          for SDKs that cannot send the x-emulator-fault header
  IMG2IMG_FAULT_REASON    the reason a failed task reports (default: sdk-check failure)
  IMG2IMG_WRONG_KEY       a key the target refuses (default: the key with "-wrong" appended)
"""

import base64
import io
import json
import os
import sys
import traceback
from dataclasses import dataclass, field

from PIL import Image

# First bytes of each output format the providers offer.
MAGIC = {
    "png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpeg": lambda b: b.startswith(b"\xff\xd8\xff"),
    "webp": lambda b: len(b) > 12 and b[:4] == b"RIFF" and b[8:12] == b"WEBP",
}


class CaseFailed(Exception):
    """A case's expectation did not hold; the message says which and what was seen."""


def expect(condition, message):
    """Fails the current case with `message` unless `condition` holds."""
    if not condition:
        raise CaseFailed(message)


def env(name, default=None, required=False):
    """An environment variable, with a default; exits with status 2 when a required one is unset."""
    value = os.environ.get(name, default)
    if required and not value:
        print(f"{name} is not set (see conformance/sdk/README.md)", file=sys.stderr)
        sys.exit(2)
    return value


def api_key(name):
    """The key: the provider's usual variable `name`, else IMG2IMG_API_KEY (what run.sh sets for
    every SDK); exits with status 2 when neither is set."""
    value = env(name) or env("IMG2IMG_API_KEY")
    if not value:
        print(f"{name} (or IMG2IMG_API_KEY) is not set (see conformance/sdk/README.md)", file=sys.stderr)
        sys.exit(2)
    return value


def queued_base_url():
    """IMG2IMG_QUEUED_BASE_URL (a server whose sync-or-queued jobs always queue) without a trailing
    slash, else IMG2IMG_BASE_URL's."""
    return (env("IMG2IMG_QUEUED_BASE_URL") or base_url()).rstrip("/")


def base_url():
    """IMG2IMG_BASE_URL without a trailing slash."""
    return env("IMG2IMG_BASE_URL", required=True).rstrip("/")


def fault_base_url():
    """IMG2IMG_FAULT_BASE_URL without a trailing slash, or None."""
    value = env("IMG2IMG_FAULT_BASE_URL")
    return value.rstrip("/") if value else None


def fault_key():
    """IMG2IMG_FAULT_KEY: a key the emulator fails every job for (`--key-fault KEY=fail=<reason>`), or None."""
    return env("IMG2IMG_FAULT_KEY") or None


def fault_reason():
    """The reason a failed task must report."""
    return env("IMG2IMG_FAULT_REASON", "sdk-check failure")


def wrong_key(key):
    """A key the target must refuse."""
    return env("IMG2IMG_WRONG_KEY", key + "-wrong")


def init_image_png(width=64, height=64):
    """A small gradient PNG (bytes) to use as the init image."""
    image = Image.new("RGB", (width, height))
    image.putdata([(x * 4 % 256, y * 4 % 256, 128) for y in range(height) for x in range(width)])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def init_image_base64():
    """`init_image_png()` as base64 text."""
    return base64.b64encode(init_image_png()).decode("ascii")


def check_image(data, fmt, width, height, label):
    """Fails unless `data` is a `fmt` image of `width` x `height`; returns a short description."""
    expect(isinstance(data, (bytes, bytearray)) and len(data) > 0, f"{label}: no image bytes")
    expect(MAGIC[fmt](data), f"{label}: not a {fmt} file (first bytes {bytes(data[:12])!r})")
    with Image.open(io.BytesIO(data)) as image:
        size = image.size
    expect(size == (width, height), f"{label}: {size[0]}x{size[1]}, expected {width}x{height}")
    return f"{fmt} {size[0]}x{size[1]} {len(data)} B"


def redact(text, *secrets):
    """`text` with every secret replaced, so no key reaches the output."""
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


@dataclass
class Runner:
    """Runs cases, prints one JSON line each, remembers whether any failed."""

    sdk: str
    secrets: list = field(default_factory=list)
    failed: int = 0
    passed: int = 0
    skipped: int = 0

    def case(self, name, function):
        """Runs `function()`; it returns a detail (passed), raises CaseFailed or anything (failed),
        or returns a `Skip` (skipped: the setup the case needs is missing)."""
        try:
            detail = function()
            if isinstance(detail, Skip):
                self.skipped += 1
                line = {"case": name, "ok": None, "skipped": True, "detail": detail.why}
            else:
                self.passed += 1
                line = {"case": name, "ok": True, "detail": detail}
        except CaseFailed as failure:
            self.failed += 1
            line = {"case": name, "ok": False, "detail": str(failure)}
        except Exception as error:  # the SDK raised where the case expected success
            self.failed += 1
            where = traceback.extract_tb(error.__traceback__)[-1]
            line = {
                "case": name,
                "ok": False,
                "detail": f"{type(error).__name__}: {error} (at {os.path.basename(where.filename)}:{where.lineno})",
            }
        line = {"sdk": self.sdk, **line}
        print(redact(json.dumps(line), *self.secrets), flush=True)

    def finish(self):
        """Prints the summary line to stderr and exits 1 when a case failed."""
        print(f"{self.sdk}: {self.passed} passed, {self.failed} failed, {self.skipped} skipped", file=sys.stderr)
        sys.exit(1 if self.failed else 0)


@dataclass
class Skip:
    """A case that cannot run with the given setup, and why."""

    why: str

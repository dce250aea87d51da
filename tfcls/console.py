"""The console: TensorFlow's start-up chatter filtered, and native stderr captured.

Commands call :func:`quiet_tensorflow` before they import TensorFlow (``tfcls.cli``);
importing the library changes no logging. :func:`captured_stderr` also serves the export,
which reads what the TF.js converter writes to file descriptor 2.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# Lines TF 2.19 prints at import on a machine without a GPU; they are not actionable.
_TF_NOISE = re.compile(
    r"absl::InitializeLog|Unable to register cu(DNN|BLAS|FFT)|computation placer already "
    r"registered|Could not find cuda drivers|cudart_stub|oneDNN custom operations|"
    r"TensorFlow binary is optimized|rebuild TensorFlow with the appropriate compiler flags|"
    r"Attempting to register factory"
)


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Capture file descriptor 2 (C++ libraries write there directly, past sys.stderr);
    the yielded list holds the captured lines once the block ends."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines += captured.read().decode("utf-8", "replace").splitlines()


def quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ start-up chatter (CUDA probing on CPU machines).

    TF writes these lines straight to file descriptor 2 before its log level applies, so
    the import runs with fd 2 captured; any captured line that is not known noise is
    written back, so real warnings and errors still reach the user.
    Set TF_CPP_MIN_LOG_LEVEL yourself to see everything.
    """
    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    # 3: also hide TF's C++ ERROR lines on CPU machines ("failed call to cuInit", oneDNN
    # int64 fallback); failures that matter surface as Python exceptions.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with captured_stderr() as lines:
        import tensorflow  # noqa: F401
    kept = [line for line in lines if line.strip() and not _TF_NOISE.search(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr)

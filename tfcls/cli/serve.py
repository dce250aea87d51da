"""``python -m tfcls.serve [--host 127.0.0.1] [--port 5000] [--debug]``: run the web app.

For local use (Flask's threaded server). In production run threaded workers, one per
core, behind gunicorn (threads let a worker's feedback POSTs share one commit)::

    gunicorn -k gthread -w 2 --threads 16 -b 127.0.0.1:8000 'tfcls.serving.app:create_app()'

with ``TFCLS_CONFIG=path/to/config.yaml`` for another config. Debug mode (reloader,
interactive tracebacks) is only ever on with ``--debug``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tfcls.cli import common as cli


def _parser():
    p = cli.parser("python -m tfcls.serve", __doc__.split("\n\n")[0])
    p.add_argument("--host", help="interface to bind (default: serving.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: serving.port, 5000)")
    p.add_argument("--debug", action="store_true", help="Flask debug mode (never in production)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from tfcls.serving.app import check_config, create_app

    args = _parser().parse_args(argv)
    config = cli.config_from(args)
    host = args.host or config.serving.host
    port = args.port or config.serving.port
    check_config(config)
    app = create_app(config)
    store = app.extensions["tfcls"].store
    print(
        f"serving {config.serving.exported} (current "
        f"{app.extensions['tfcls'].bundles.current()}) on http://{host}:{port}; "
        f"feedback in {store.url}",
        flush=True,
    )
    app.run(host=host, port=port, debug=args.debug, use_reloader=args.debug, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))

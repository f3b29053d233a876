"""`python -m webapp.support.standin --port 12111 --webhook-url http://127.0.0.1:5000/support/webhooks/stripe`

The keys come from STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or the options); Plumb
must be given the same two, and STRIPE_API_BASE=http://127.0.0.1:<port>."""
from __future__ import annotations

import argparse
import logging
import os

from werkzeug.serving import run_simple

from webapp.support.standin import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m webapp.support.standin",
                                     description="A local stand-in for Stripe: test payments, no money moves.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_WEBHOOK_URL"),
                        help="where events are POSTed (none: recorded, not sent)")
    parser.add_argument("--secret-key", default=os.environ.get("STRIPE_SECRET_KEY"),
                        help="the sk_test_ key callers must send (default: STRIPE_SECRET_KEY)")
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET"),
                        help="the whsec_ secret webhooks are signed with (default: STRIPE_WEBHOOK_SECRET)")
    parser.add_argument("--public-url", help="the address browsers use for the hosted page, if not the API's")
    args = parser.parse_args(argv)
    if not args.secret_key or not args.webhook_secret:
        parser.error("set STRIPE_SECRET_KEY (sk_test_…) and STRIPE_WEBHOOK_SECRET (whsec_…), or pass them")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s stand-in %(message)s")
    try:
        app = create_app(args.secret_key, args.webhook_secret, args.webhook_url, public_url=args.public_url)
    except ValueError as refused:
        parser.error(str(refused))
    print(f" * Stripe stand-in on http://{args.host}:{args.port}, webhooks to {args.webhook_url or 'nowhere'}")
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()

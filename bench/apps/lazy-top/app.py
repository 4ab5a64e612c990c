"""bench/apps/lazy-inside with the imports at module level: the baseline it is measured against."""

import decimal, fractions, json, statistics  # noqa: E401

from spin_sdk import http


def handle_request(request):
    mean = statistics.mean([decimal.Decimal("1.5"), decimal.Decimal("2.5")])
    body = json.dumps({"mean": str(mean), "half": str(fractions.Fraction(1, 2))})
    return http.Response(200, {"content-type": "application/json"}, body.encode())

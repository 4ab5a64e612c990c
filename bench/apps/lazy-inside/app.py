"""A handler that imports decimal, fractions and statistics inside the function (issue 20)."""

from spin_sdk import http


def handle_request(request):
    import decimal, fractions, json, statistics  # noqa: E401
    mean = statistics.mean([decimal.Decimal("1.5"), decimal.Decimal("2.5")])
    body = json.dumps({"mean": str(mean), "half": str(fractions.Fraction(1, 2))})
    return http.Response(200, {"content-type": "application/json"}, body.encode())

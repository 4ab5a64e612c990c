"""The bare handler the web framework benchmark compares against (bench/web.sh): the
same route as the framework fixtures' /hello/{name}."""

from pyedge.http import Response


def handle_request(request):
    name = request.path.rsplit("/", 1)[-1]
    return Response(200, {"content-type": "text/plain"}, f"Hello, {name}!".encode())

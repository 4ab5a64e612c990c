"""A compatibility layer so code written for Spin's Python SDK runs on pyedge unchanged.

Only the HTTP parts are provided: ``from spin_sdk import http``,
``from spin_sdk.http import Request, Response, send`` and
``class IncomingHandler(http.IncomingHandler)``.
"""

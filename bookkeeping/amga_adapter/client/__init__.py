"""The AMGA client side, in one package: ``client_connection`` (transport: TLS, framing,
reconnect), ``client`` (the mdclient-compatible ``MDClient`` API), ``federation`` (one client
over several servers) and ``remote`` (catalogue sessions over the protocol, typed values).

It speaks the wire format of ``protocol`` and the condition language of ``query``, and
raises the engine's catalogue errors for the codes a server returns; it never touches a
database.
"""

# Loopback HTTP + HTTPS endpoints for the health benchmark: /ok answers at once, /delay after 200 ms.
# asyncio, so 200 concurrent delayed requests cost no threads and the server is not what the fan-out measures.
import asyncio, ssl, sys

BODY = b'{"status":"ok"}'

async def handle(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1]
        if path.startswith(b"/delay"):
            await asyncio.sleep(0.2)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(BODY), BODY))
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()

async def main():
    http_port, https_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    plain = await asyncio.start_server(handle, "127.0.0.1", http_port, backlog=1024)
    tls = await asyncio.start_server(handle, "127.0.0.1", https_port, ssl=ctx, backlog=1024)
    async with plain, tls:
        await asyncio.gather(plain.serve_forever(), tls.serve_forever())

asyncio.run(main())

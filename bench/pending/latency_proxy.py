#!/usr/bin/env python3
"""A TCP forwarder that holds every chunk for DELAY_MS before passing it on, in each direction: a WAN link to the store.

Usage: latency_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS   (prints "listening" once bound; runs until killed)
A round trip through it costs at least 2 x DELAY_MS more than on loopback; chunks keep their order.
"""
import asyncio
import sys


async def pump(reader, writer, delay):
    queue = asyncio.Queue()

    async def later():
        while True:
            due, data = await queue.get()
            wait = due - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(later())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((asyncio.get_running_loop().time() + delay, data))
    finally:
        queue.put_nowait((asyncio.get_running_loop().time() + delay, None))
        await sender


async def main():
    listen, host, port, delay = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except Exception:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, delay), pump(server_reader, client_writer, delay), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())

#!/usr/bin/env python3
"""A deliberately slow echo backend for the selector benchmark: every chunk is sent back after DELAY
seconds. Listens on 127.0.0.1 only. Usage: slow_echo.py PORT [DELAY_SECONDS]"""
import asyncio
import sys


async def handle(reader, writer, delay):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    port = int(sys.argv[1])
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    server = await asyncio.start_server(lambda r, w: handle(r, w, delay), "127.0.0.1", port, backlog=1024)
    print(f"listening=1 port={port} delay={delay}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())

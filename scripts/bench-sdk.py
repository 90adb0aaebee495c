#!/usr/bin/env python3
"""The Python half of the client benchmark (scripts/bench-client.sh): Google's official `google-genai`
SDK against an emulator that is already running, the same workload as
`onbrand-benchmarks client` (GeminiKit).

    python3 scripts/bench-sdk.py --base-url http://127.0.0.1:PORT [--count 1000] [--concurrency 64]
        [--size 1K] [--ratio 1:1] [--model gemini-3.1-flash-image-preview] --out DIR

Sends COUNT generateContent calls through the SDK's async client, at most CONCURRENCY in flight,
writes each answer's image to DIR/i.png and prints one line of JSON:

    {"client":"google-genai X.Y.Z","count":…,"concurrency":…,"seconds":…,"images_per_s":…,
     "mb_per_s":…,"failed":…,"peak_rss_mb":…}

mb_per_s is decoded image bytes written per second (MB = 1e6). Exits 1 if any call failed, with the
first error on stderr.
"""
import argparse
import asyncio
import json
import os
import resource
import sys
import time

from google import genai
from google.genai import types


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the emulator, e.g. http://127.0.0.1:8089")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--size", default="1K", choices=["512", "1K", "2K", "4K"])
    parser.add_argument("--ratio", default="1:1")
    parser.add_argument("--model", default="gemini-3.1-flash-image-preview")
    parser.add_argument("--out", required=True, help="directory for the images (created if missing)")
    arguments = parser.parse_args()
    if arguments.count < 1 or arguments.concurrency < 1:
        parser.error("--count and --concurrency must be at least 1")
    return arguments


def image_bytes(response):
    """The first image part's decoded bytes (the SDK has already decoded the base64), or None."""
    for candidate in response.candidates or []:
        for part in (candidate.content.parts if candidate.content else None) or []:
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("image/"):
                return blob.data
    return None


def write_file(path, data):
    with open(path, "wb") as file:
        file.write(data)


async def run(arguments):
    os.makedirs(arguments.out, exist_ok=True)
    # SDK defaults otherwise (its own timeout and retry policy, its default httpx2 connection pool of
    # 100, which is above the default concurrency), as a user would have them.
    client = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=arguments.base_url))
    config = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio=arguments.ratio, image_size=arguments.size),
    )
    semaphore = asyncio.Semaphore(arguments.concurrency)
    written = 0
    failures = []

    async def one(i):
        nonlocal written
        async with semaphore:
            try:
                response = await client.aio.models.generate_content(
                    model=arguments.model,
                    contents=f"product {i} on a white background, brand colours #1f6feb #ffcc00",
                    config=config,
                )
                data = image_bytes(response)
                if data is None:
                    raise RuntimeError(f"request {i}: no image in the response "
                                       f"(finish reason {response.candidates[0].finish_reason if response.candidates else None})")
                # The file is written on a worker thread (asyncio.to_thread), as a careful asyncio user
                # would: a blocking write of a multi-megabyte PNG on the event loop would stall every
                # other request in flight. The write stays inside the semaphore, so at most
                # CONCURRENCY decoded images are held in memory at once, like the Swift side.
                await asyncio.to_thread(write_file, os.path.join(arguments.out, f"{i}.png"), data)
                written += len(data)
            except Exception as error:  # noqa: BLE001 - every failure counts, the first is reported
                failures.append(f"request {i}: {type(error).__name__}: {error}")

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(arguments.count)))
    seconds = time.perf_counter() - start
    await client.aio.aclose()
    return seconds, written, failures


def main():
    arguments = parse_arguments()
    seconds, written, failures = asyncio.run(run(arguments))
    succeeded = arguments.count - len(failures)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is in KiB on Linux
    print(json.dumps({
        "client": f"google-genai {genai.__version__}",
        "count": arguments.count,
        "concurrency": arguments.concurrency,
        "seconds": round(seconds, 3),
        "images_per_s": round(succeeded / seconds, 2),
        "mb_per_s": round(written / 1e6 / seconds, 2),
        "failed": len(failures),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }, separators=(",", ":")), flush=True)
    if failures:
        print(f"bench-sdk: {len(failures)} of {arguments.count} requests failed; first: {failures[0]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

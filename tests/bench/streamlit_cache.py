"""Streamlit's caching on the same shapes as cellar's criterion benches, measured as Streamlit's
own benchmarks do: calling the decorated functions outside a running app.

Usage (in a venv with streamlit, pandas, numpy): python streamlit_cache.py ROWS [ROWS…]
Prints one JSON object: seconds per operation (medians).
"""
import json
import logging
import statistics
import sys
import time

import numpy as np
import pandas as pd
import streamlit as st

logging.getLogger("streamlit").setLevel(logging.ERROR)


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def table(rows):
    rng = np.random.default_rng(1)
    return pd.DataFrame({f"c{i}": rng.random(rows) for i in range(4)})


def measure(rows):
    frame = table(rows)
    clone = median_time(lambda: frame.copy(deep=True), 5)

    misses = []
    for round_ in range(3):
        @st.cache_data
        def load(df, round_=round_):
            return df
        t = time.perf_counter()
        load(frame)
        misses.append(time.perf_counter() - t)
        hit = median_time(lambda: load(frame), 5)
        st.cache_data.clear()
    return {"rows": rows, "plain_copy_s": clone, "cache_data_miss_s": statistics.median(misses),
            "cache_data_hit_s": hit}


def resource_hit():
    @st.cache_resource
    def connect(url):
        return object()
    connect("db://x")
    return median_time(lambda: connect("db://x"), 2000)


if __name__ == "__main__":
    out = {"streamlit": st.__version__, "tables": [measure(int(r)) for r in sys.argv[1:]],
           "cache_resource_hit_s": resource_hit()}
    print(json.dumps(out))

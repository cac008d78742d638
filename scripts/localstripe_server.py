"""localstripe, bound to one address and keeping its state in a directory of ours.

Upstream localstripe listens on every interface (`::`) and pickles its whole store to
/tmp/localstripe.pickle after every write, which different runs and users would then share. This
launcher serves the same aiohttp application on HOST:PORT only, starts from an empty store, and
writes the pickle into DATA_DIR instead.

usage: localstripe_server.py HOST PORT DATA_DIR
"""
import logging
import os
import pickle
import sys

from aiohttp import web

import localstripe.resources
import localstripe.server


def main():
    host, port, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(data_dir, exist_ok=True)
    state = os.path.join(data_dir, "localstripe.pickle")

    def dump_to_disk(store):
        with open(state, "wb") as f:
            pickle.dump(store, f, protocol=pickle.HIGHEST_PROTOCOL)

    localstripe.resources.Store.dump_to_disk = dump_to_disk

    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    web.run_app(localstripe.server.app, host=host, port=port, access_log=logger, print=None)


if __name__ == "__main__":
    main()

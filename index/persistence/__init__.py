"""The derived state of a data dir: snapshot files of the code indexes, and start-up
recovery (the store's truth plus a snapshot -> a live code index).

    snapshot   snapshot files: written atomically, verified on load
    recovery   a collection's index at start-up: snapshot + replay, or a rebuild

Here, not in `store/`: recovery is engine orchestration over the store and the code
indexes, and the store knows only SQLite.
"""

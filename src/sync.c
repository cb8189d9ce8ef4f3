/* sync.c - (being written) */

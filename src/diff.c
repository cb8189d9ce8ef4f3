/* diff.c - (being written) */

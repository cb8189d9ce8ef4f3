/* digest.c - (being written) */

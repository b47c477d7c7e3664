"""Reproduction: experiments from the metafile, smoke twins, `reproduce`, tables, paper figures, official logs, CI regression."""

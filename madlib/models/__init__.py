"""Model families, one file each; every one is a madlib.loops.LoopModel."""

// Package benchmarks; each module prints its own table.
import './data.ts';
import './tokenizer.ts';

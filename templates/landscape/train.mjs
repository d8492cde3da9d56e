// train.mjs — the knobs of the synthetic landscape. This is the file experiments edit.
// Each knob is a constant with a comment; prepare.mjs scores them (lower val_bpb is better)
// in its evaluate step, from the checkpoint this file saves.

import { train } from './prepare.mjs';

// ---- Knobs ------------------------------------------------------------------------------------

const LR = 0.01; // learning rate
const WIDTH = 64; // model width (a power of two)
const DEPTH = 3; // number of layers
const WARMUP_RATIO = 0.0; // fraction of the budget spent warming up the learning rate
const WEIGHT_DECAY = 0.0; // weight decay
const USE_BIAS = true; // biases in the linear layers
const ACTIVATION = 'relu'; // MLP non-linearity: "relu" | "gelu" | "relu2"

// ---- Run ----------------------------------------------------------------------------------------

await train({ LR, WIDTH, DEPTH, WARMUP_RATIO, WEIGHT_DECAY, USE_BIAS, ACTIVATION });

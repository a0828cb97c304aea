'use strict';
// Loaded with `node --require`: makes `cronium` a global in every script.
globalThis.cronium = require('./cronium.js');

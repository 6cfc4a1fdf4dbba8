#pragma once
// Moved to <gidlog/testing/catch2.h>; this forwarding header goes away in 0.3.
#include <gidlog/testing/catch2.h>

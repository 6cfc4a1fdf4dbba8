#pragma once
// Moved to <gidlog/testing/leak_check.h>; this forwarding header goes away in 0.3.
#include <gidlog/testing/leak_check.h>

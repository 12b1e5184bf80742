#pragma once
/// Marks SDK symbols that host and plugins share (types thrown or dynamic_cast across libraries).
#define GANTRY_API __attribute__((visibility("default")))

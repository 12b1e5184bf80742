#include "cli/commands.hpp"

int main(int argc, char** argv) { return gantry::cli::main(argc, argv); }

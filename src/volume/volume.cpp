#include "volume/volume.h"

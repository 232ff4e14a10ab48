#include "scsi/command.h"

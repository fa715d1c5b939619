/**
 * Example definitions, the same as docs/examples/*.json (a test checks they are identical). They use only the
 * built-in core connector, so they validate in any tenant; the docs and the tests load them from here.
 */
import type { JsonObject } from '../json.js';

/** Example name → the file in docs/examples/ it mirrors. */
export const EXAMPLE_FILES = {
  sequence: 'sequence.json',
  parallelBranches: 'parallel-branches.json',
  condition: 'condition.json',
  forEach: 'for-each.json',
  delay: 'delay.json',
  subWorkflow: 'sub-workflow.json',
  approval: 'approval.json',
  waitForEvent: 'wait-for-event.json',
  errorHandling: 'error-handling.json',
} as const;

export type ExampleName = keyof typeof EXAMPLE_FILES;

export const EXAMPLES: Readonly<Record<ExampleName, JsonObject>> = {
  sequence: {
    "schemaVersion": 1,
    "name": "Greeting (a sequence)",
    "description": "Builds a greeting from the run input, logs it and returns it.",
    "inputs": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string",
          "description": "Who to greet.",
          "default": "world",
          "minLength": 1
        }
      }
    },
    "steps": [
      {
        "id": "makeGreeting",
        "type": "action",
        "connector": "core",
        "action": "set",
        "inputs": {
          "value": {
            "$expr": "\"Hello, \" + inputs.name + \"!\""
          }
        }
      },
      {
        "id": "logGreeting",
        "type": "action",
        "dependsOn": [
          "makeGreeting"
        ],
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "steps.makeGreeting.output"
          },
          "level": "info"
        }
      },
      {
        "id": "finish",
        "type": "action",
        "dependsOn": [
          "logGreeting"
        ],
        "connector": "core",
        "action": "noop"
      }
    ],
    "outputs": {
      "greeting": {
        "$expr": "steps.makeGreeting.output"
      }
    }
  },
  parallelBranches: {
    "schemaVersion": 1,
    "name": "New customer (parallel branches)",
    "description": "Prepares a customer record, then sets up billing and shipping at the same time, then reports.",
    "inputs": {
      "type": "object",
      "properties": {
        "customerId": {
          "type": "string",
          "minLength": 1,
          "default": "c-42"
        },
        "country": {
          "type": "string",
          "default": "NL",
          "enum": [
            "NL",
            "BE",
            "DE"
          ]
        }
      }
    },
    "timeoutSeconds": 3600,
    "steps": [
      {
        "id": "prepare",
        "type": "action",
        "connector": "core",
        "action": "set",
        "inputs": {
          "value": {
            "id": {
              "$expr": "inputs.customerId"
            },
            "country": {
              "$expr": "inputs.country"
            }
          }
        }
      },
      {
        "id": "setUpBilling",
        "type": "action",
        "dependsOn": [
          "prepare"
        ],
        "connector": "core",
        "action": "set",
        "inputs": {
          "value": {
            "account": {
              "$expr": "\"ACC-\" + steps.prepare.output.id"
            }
          }
        }
      },
      {
        "id": "setUpShipping",
        "type": "action",
        "dependsOn": [
          "prepare"
        ],
        "connector": "core",
        "action": "set",
        "inputs": {
          "value": {
            "zone": {
              "$expr": "steps.prepare.output.country == \"NL\" ? \"domestic\" : \"eu\""
            }
          }
        }
      },
      {
        "id": "report",
        "type": "action",
        "dependsOn": [
          "setUpBilling",
          "setUpShipping"
        ],
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": "Customer ready",
          "data": {
            "account": {
              "$expr": "steps.setUpBilling.output.account"
            },
            "zone": {
              "$expr": "steps.setUpShipping.output.zone"
            }
          }
        }
      }
    ],
    "outputs": {
      "account": {
        "$expr": "steps.setUpBilling.output.account"
      },
      "zone": {
        "$expr": "steps.setUpShipping.output.zone"
      }
    }
  },
  condition: {
    "schemaVersion": 1,
    "name": "Order routing (conditions)",
    "description": "Large orders go to review, small ones are accepted; both branches join again.",
    "inputs": {
      "type": "object",
      "properties": {
        "amount": {
          "type": "number",
          "minimum": 0,
          "default": 250
        },
        "currency": {
          "type": "string",
          "default": "EUR"
        }
      }
    },
    "steps": [
      {
        "id": "classify",
        "type": "action",
        "connector": "core",
        "action": "set",
        "inputs": {
          "value": {
            "large": {
              "$expr": "inputs.amount > 1000.0"
            }
          }
        }
      },
      {
        "id": "sendToReview",
        "type": "action",
        "dependsOn": [
          "classify"
        ],
        "condition": {
          "$expr": "steps.classify.output.large"
        },
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "\"Review needed for \" + string(inputs.amount) + \" \" + inputs.currency"
          },
          "level": "warn"
        }
      },
      {
        "id": "accept",
        "type": "action",
        "dependsOn": [
          "classify"
        ],
        "condition": {
          "$expr": "!steps.classify.output.large"
        },
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": "Accepted automatically"
        }
      },
      {
        "id": "done",
        "type": "action",
        "dependsOn": [
          "sendToReview",
          "accept"
        ],
        "join": "any",
        "connector": "core",
        "action": "set",
        "inputs": {
          "value": {
            "$expr": "steps.sendToReview.status == \"succeeded\" ? \"review\" : \"accepted\""
          }
        }
      }
    ],
    "outputs": {
      "route": {
        "$expr": "steps.done.output"
      }
    }
  },
  forEach: {
    "schemaVersion": 1,
    "name": "Process order lines (forEach)",
    "description": "Checks every line of an order, five at a time, then logs each total with a single-action loop.",
    "inputs": {
      "type": "object",
      "properties": {
        "lines": {
          "type": "array",
          "minItems": 1,
          "items": {
            "type": "object",
            "required": [
              "sku",
              "quantity",
              "price"
            ],
            "properties": {
              "sku": {
                "type": "string"
              },
              "quantity": {
                "type": "integer",
                "minimum": 1
              },
              "price": {
                "type": "number",
                "minimum": 0
              }
            }
          },
          "default": [
            {
              "sku": "A-1",
              "quantity": 2,
              "price": 9.5
            },
            {
              "sku": "B-2",
              "quantity": 1,
              "price": 20
            }
          ]
        }
      }
    },
    "steps": [
      {
        "id": "checkLines",
        "type": "forEach",
        "items": {
          "$expr": "inputs.lines"
        },
        "concurrency": 5,
        "steps": [
          {
            "id": "lineTotal",
            "type": "action",
            "connector": "core",
            "action": "set",
            "inputs": {
              "value": {
                "$expr": "double(item.quantity) * item.price"
              }
            }
          },
          {
            "id": "flagLarge",
            "type": "action",
            "dependsOn": [
              "lineTotal"
            ],
            "condition": {
              "$expr": "steps.lineTotal.output > 500.0"
            },
            "connector": "core",
            "action": "log",
            "inputs": {
              "message": {
                "$expr": "\"Large line \" + string(index) + \": \" + item.sku"
              },
              "level": "warn"
            }
          }
        ],
        "output": {
          "sku": {
            "$expr": "item.sku"
          },
          "total": {
            "$expr": "steps.lineTotal.output"
          }
        }
      },
      {
        "id": "logTotals",
        "type": "forEach",
        "dependsOn": [
          "checkLines"
        ],
        "items": {
          "$expr": "steps.checkLines.output"
        },
        "action": {
          "connector": "core",
          "action": "log",
          "inputs": {
            "message": {
              "$expr": "item.sku + \": \" + string(item.total)"
            }
          }
        }
      }
    ],
    "outputs": {
      "lines": {
        "$expr": "steps.checkLines.output"
      },
      "largeLines": {
        "$expr": "steps.checkLines.output.filter(l, l.total > 500.0).map(l, l.sku)"
      }
    }
  },
  delay: {
    "schemaVersion": 1,
    "name": "Reminder (delays)",
    "description": "Waits a fixed time, then until the moment given in the input, and logs a reminder each time.",
    "inputs": {
      "type": "object",
      "properties": {
        "remindAt": {
          "type": "string",
          "format": "date-time",
          "description": "When to send the final reminder.",
          "default": "2026-01-01T09:00:00Z"
        },
        "subject": {
          "type": "string",
          "default": "your subscription"
        }
      }
    },
    "steps": [
      {
        "id": "coolDown",
        "type": "delay",
        "durationSeconds": 2
      },
      {
        "id": "firstReminder",
        "type": "action",
        "dependsOn": [
          "coolDown"
        ],
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "\"First reminder about \" + inputs.subject"
          }
        }
      },
      {
        "id": "waitUntilDue",
        "type": "delay",
        "dependsOn": [
          "firstReminder"
        ],
        "until": {
          "$expr": "inputs.remindAt"
        }
      },
      {
        "id": "finalReminder",
        "type": "action",
        "dependsOn": [
          "waitUntilDue"
        ],
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "\"Final reminder about \" + inputs.subject"
          },
          "level": "warn"
        }
      }
    ]
  },
  subWorkflow: {
    "schemaVersion": 1,
    "name": "Month end (sub-workflows)",
    "description": "Runs a pinned version of the invoicing workflow, then the latest notification workflow.",
    "inputs": {
      "type": "object",
      "properties": {
        "month": {
          "type": "string",
          "description": "The month, as YYYY-MM.",
          "default": "2026-11"
        }
      }
    },
    "steps": [
      {
        "id": "invoice",
        "type": "subWorkflow",
        "workflowId": "invoice-customers",
        "version": 3,
        "inputs": {
          "period": {
            "$expr": "inputs.month"
          },
          "dryRun": false
        },
        "timeoutSeconds": 7200
      },
      {
        "id": "notify",
        "type": "subWorkflow",
        "dependsOn": [
          "invoice"
        ],
        "workflowId": "notify-finance",
        "version": "latest",
        "inputs": {
          "subject": {
            "$expr": "\"Invoices for \" + inputs.month"
          },
          "count": {
            "$expr": "steps.invoice.output.count"
          }
        },
        "onError": "continue"
      },
      {
        "id": "summary",
        "type": "action",
        "dependsOn": [
          "notify"
        ],
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "steps.notify.status == \"failed\" ? \"Invoiced; notification failed\" : \"Invoiced and notified\""
          }
        }
      }
    ],
    "outputs": {
      "invoices": {
        "$expr": "steps.invoice.output.count"
      }
    }
  },
  approval: {
    "schemaVersion": 1,
    "name": "Refund approval (approvals)",
    "description": "Asks a tenant admin to approve a refund; escalates when nobody decides within two days.",
    "inputs": {
      "type": "object",
      "properties": {
        "orderId": {
          "type": "string",
          "default": "o-1001"
        },
        "amount": {
          "type": "number",
          "exclusiveMinimum": 0,
          "default": 120
        }
      }
    },
    "steps": [
      {
        "id": "review",
        "type": "approval",
        "approvers": {
          "roles": [
            "Tenant.Admin"
          ]
        },
        "title": "Refund request",
        "message": {
          "$expr": "\"Refund \" + string(inputs.amount) + \" for order \" + inputs.orderId + \"?\""
        },
        "timeoutSeconds": 172800,
        "onTimeout": {
          "goto": "escalate"
        },
        "onReject": "continue"
      },
      {
        "id": "refund",
        "type": "action",
        "dependsOn": [
          "review"
        ],
        "condition": {
          "$expr": "steps.review.output.decision == \"approved\""
        },
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "\"Refunding order \" + inputs.orderId"
          }
        }
      },
      {
        "id": "escalate",
        "type": "action",
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "\"No decision on order \" + inputs.orderId + \": \" + error.message"
          },
          "level": "error"
        }
      }
    ],
    "outputs": {
      "decision": {
        "$expr": "steps.review.output.decision"
      }
    }
  },
  waitForEvent: {
    "schemaVersion": 1,
    "name": "Wait for payment (events)",
    "description": "Waits up to an hour for the payment event of this order; cancels the order when it does not come.",
    "inputs": {
      "type": "object",
      "properties": {
        "orderId": {
          "type": "string",
          "default": "o-1001"
        }
      }
    },
    "steps": [
      {
        "id": "awaitPayment",
        "type": "waitForEvent",
        "event": "payment.received",
        "correlationKey": {
          "$expr": "inputs.orderId"
        },
        "timeoutSeconds": 3600,
        "onTimeout": {
          "goto": "cancelOrder"
        }
      },
      {
        "id": "ship",
        "type": "action",
        "dependsOn": [
          "awaitPayment"
        ],
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "\"Paid \" + string(steps.awaitPayment.output.amount) + \", shipping \" + inputs.orderId"
          }
        }
      },
      {
        "id": "cancelOrder",
        "type": "action",
        "connector": "core",
        "action": "fail",
        "inputs": {
          "code": "PAYMENT_TIMEOUT",
          "message": {
            "$expr": "\"No payment for \" + inputs.orderId + \" (\" + error.code + \")\""
          }
        }
      }
    ]
  },
  errorHandling: {
    "schemaVersion": 1,
    "name": "Error handling (retries, fallbacks, onError)",
    "description": "Shows a retry policy, a timeout, fallbacks, onError continue and an onError handler.",
    "steps": [
      {
        "id": "publish",
        "type": "action",
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": "primary channel"
        },
        "retry": {
          "maxRetries": 5,
          "intervalSeconds": 2,
          "backoffCoefficient": 2,
          "maxIntervalSeconds": 30
        },
        "timeoutSeconds": 10,
        "fallbacks": [
          {
            "inputs": {
              "message": "secondary channel"
            }
          },
          {
            "action": "set",
            "inputs": {
              "value": "gave up publishing"
            },
            "retry": {
              "maxRetries": 0
            }
          }
        ]
      },
      {
        "id": "optional",
        "type": "action",
        "dependsOn": [
          "publish"
        ],
        "connector": "core",
        "action": "fail",
        "inputs": {
          "code": "OPTIONAL",
          "message": "this step may fail"
        },
        "onError": "continue"
      },
      {
        "id": "validate",
        "type": "action",
        "dependsOn": [
          "optional"
        ],
        "connector": "core",
        "action": "fail",
        "inputs": {
          "message": {
            "$expr": "\"optional ended as \" + steps.optional.status"
          }
        },
        "onError": {
          "goto": "recover"
        }
      },
      {
        "id": "recover",
        "type": "action",
        "connector": "core",
        "action": "log",
        "inputs": {
          "message": {
            "$expr": "\"Step \" + error.stepId + \" failed: \" + error.message"
          },
          "level": "error"
        }
      },
      {
        "id": "cleanUp",
        "type": "action",
        "dependsOn": [
          "recover"
        ],
        "connector": "core",
        "action": "noop"
      }
    ]
  },
};

import { app } from '@azure/functions';
import { disposeContainer } from '../../shared/composition/container.js';

/** Close database handles and clients when the host stops, so shutdown is clean and nothing is left open. */
app.hook.appTerminate(async () => {
  await disposeContainer();
});
